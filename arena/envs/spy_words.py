"""Who-is-the-Spy word pairs, written for arena (no external list): ``(word_a, word_b, category)``.

Each pair is two related but different things; either word may go to the civilians. Words are lower-case,
single tokens, and no word appears in two pairs.
"""

from __future__ import annotations

_PAIRS = """
food: apple pear, orange lemon, banana plantain, strawberry raspberry, grape raisin, cherry plum, peach apricot
food: watermelon cantaloupe, pineapple mango, coconut walnut, potato yam, carrot parsnip, onion garlic
food: tomato pepper, cucumber zucchini, cabbage lettuce, broccoli cauliflower, pumpkin squash, mushroom truffle
food: rice noodles, bread toast, butter margarine, cheese yogurt, pizza pie, burger sandwich, dumpling ravioli
food: sushi sashimi, soup stew, pancake waffle, cookie biscuit, cake muffin, donut bagel, chocolate caramel
food: honey syrup, salt sugar, vinegar soy, ketchup mustard, popcorn chips, sausage bacon, steak chop
food: chicken turkey, shrimp lobster, salmon tuna, egg tofu, porridge cereal, jam jelly, candy lollipop
food: icecream sorbet
drink: coffee tea, milk cream, juice smoothie, beer wine, whisky brandy, water soda, lemonade cider, cocoa latte
drink: champagne prosecco, espresso cappuccino
animal: dog wolf, cat tiger, lion leopard, horse donkey, cow buffalo, sheep goat, pig boar, rabbit hare
animal: mouse rat, hamster squirrel, eagle hawk, owl bat, parrot pigeon, duck goose, swan flamingo
animal: penguin puffin, dolphin whale, shark orca, octopus squid, crab crayfish, frog toad, snake lizard
animal: turtle tortoise, crocodile alligator, butterfly moth, bee wasp, ant termite, spider scorpion
animal: camel llama, zebra giraffe, elephant rhino, monkey gorilla, fox coyote, bear panda, deer moose
animal: hedgehog porcupine, kangaroo koala, rooster peacock, mosquito fly, snail slug
object: pen marker, book magazine, chair stool, table desk, sofa bed, pillow cushion, blanket quilt, lamp candle
object: clock watch, mirror window, door gate, key lock, cup mug, plate bowl, fork spoon, knife scissors
object: bottle jar, bucket basket, umbrella raincoat, hat cap, glove mitten, shoe boot, sock stocking
object: shirt blouse, jacket coat, skirt dress, belt tie, ring bracelet, necklace earring, wallet purse
object: backpack suitcase, comb brush, soap shampoo, towel napkin, toothbrush toothpaste, hammer wrench
object: nail screw, rope chain, ladder stairs, broom mop, needle pin, envelope postcard, stamp sticker
object: balloon kite, ball marble, doll puppet, puzzle riddle, dice cards, camera phone, laptop tablet
object: television radio, keyboard piano, speaker headphones, battery charger, fridge freezer, oven microwave
object: kettle teapot, stove grill, fan heater, sink bathtub, shower sauna
place: school university, hospital clinic, library bookstore, museum gallery, cinema theater, restaurant cafe
place: hotel hostel, bank post, park garden, beach island, mountain hill, river lake, ocean sea, forest jungle
place: desert savanna, village town, city capital, airport station, bridge tunnel, castle palace, church temple
place: farm ranch, zoo aquarium, market mall, kitchen pantry, bedroom attic, office studio, prison jail
place: stadium arena, gym pool
transport: car truck, bus tram, train subway, bicycle motorcycle, boat ship, airplane helicopter
transport: rocket satellite, taxi limousine, scooter skateboard, canoe kayak, sled sleigh, tractor bulldozer
job: doctor nurse, teacher professor, police detective, firefighter paramedic, chef baker, pilot astronaut
job: farmer gardener, singer dancer, actor magician, painter sculptor, writer poet, lawyer judge, soldier sailor
job: barber hairdresser, plumber electrician, waiter bartender, king emperor, prince knight, pirate viking
job: clown juggler
nature: sun moon, star planet, rain snow, cloud fog, wind storm, thunder lightning, rainbow sunset
nature: volcano geyser, rock pebble, sand dust, flower tree, rose tulip, grass moss, leaf petal, seed nut
nature: ice glacier, fire smoke, wave tide, cave canyon, spring autumn, summer winter, morning evening
activity: football basketball, tennis badminton, golf hockey, swimming diving, running walking, skiing skating
activity: boxing wrestling, chess checkers, yoga pilates, fishing hunting, camping hiking, painting drawing
activity: singing humming, reading writing, cooking baking, shopping browsing, sleeping napping
activity: laughing smiling, crying sighing
idea: birthday wedding, holiday vacation, dream nightmare, gift prize, letter email, song poem, movie cartoon
idea: novel comic, joke prank, secret rumor, map globe, coin banknote, violin guitar, drum tambourine
idea: flute trumpet, ghost vampire, dragon dinosaur, angel fairy, robot alien, wizard witch
"""


def _parse(text: str) -> tuple[tuple[str, str, str], ...]:
    pairs = []
    for line in text.strip().splitlines():
        category, _, rest = line.partition(":")
        for item in rest.split(","):
            if item.strip():
                first, second = item.split()
                pairs.append((first, second, category.strip()))
    return tuple(pairs)


#: Every word pair, ``(word_a, word_b, category)``.
WORD_PAIRS: tuple[tuple[str, str, str], ...] = _parse(_PAIRS)
#: The category of each word (public knowledge: it is the shipped list).
CATEGORY: dict[str, str] = {w: c for a, b, c in WORD_PAIRS for w in (a, b)}
