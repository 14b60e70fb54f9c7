"""Who-is-the-Spy word pairs, written for arena (no external list): ``(word_a, word_b, category)``.

Each pair is two related but clearly different things of one category; either word may go to the
civilians. Words are lower-case single tokens and no word appears in two pairs. Left out on purpose
(reviewed for issue 22): near-synonyms (prison/jail, holiday/vacation, cup/mug), complements
(key/lock, toothbrush/toothpaste), pairs that form or contain each other (sofa/bed, grape/raisin,
city/capital) and ambiguous words (bat, fly, ring, tie, pool, spring, mouse, orange, turkey, ...).

``TRAIN_PAIRS`` / ``HELD_OUT_PAIRS``: a fixed split (a hash of the pair, about one pair in five held
out) so a policy trained on one part can be evaluated on words it never saw.
"""

from __future__ import annotations

import hashlib

_PAIRS = """
food: apple pear, lemon grapefruit, banana plantain, strawberry raspberry, cherry plum, peach apricot
food: watermelon cantaloupe, pineapple mango, coconut walnut, carrot parsnip, onion garlic, broccoli cauliflower
food: cucumber zucchini, cabbage lettuce, rice noodles, pizza lasagna, burger hotdog, dumpling ravioli
food: sushi paella, pancake waffle, donut bagel, chocolate caramel, honey syrup, salt sugar, vinegar soy
food: ketchup mustard, popcorn pretzel, sausage bacon, chicken pork, shrimp lobster, salmon tuna
food: egg tofu, porridge cereal, icecream sorbet, cheese yogurt, soup salad, croissant muffin
drink: coffee tea, juice soda, beer wine, whisky brandy, lemonade cola, cocoa latte, milkshake smoothie
animal: dog wolf, cat tiger, lion leopard, horse donkey, cow buffalo, sheep goat, hamster squirrel
animal: eagle hawk, owl raven, parrot pigeon, duck goose, swan flamingo, penguin puffin, dolphin whale
animal: shark orca, octopus squid, crab crayfish, snake lizard, butterfly moth, bee wasp, ant termite
animal: spider scorpion, camel llama, zebra giraffe, elephant rhino, monkey gorilla, fox coyote, deer moose
animal: hedgehog porcupine, kangaroo koala, rooster peacock, snail slug, frog newt, panda raccoon
object: pen pencil, book magazine, chair stool, lamp candle, mirror window, door gate, plate bowl
object: fork chopsticks, knife scissors, bottle jar, bucket basket, umbrella raincoat, glove scarf
object: shoe sandal, skirt dress, necklace earring, wallet purse, backpack suitcase, comb hairbrush
object: soap shampoo, towel napkin, hammer wrench, rope chain, ladder stairs, broom mop, envelope parcel
object: sticker badge, balloon kite, marble dice, doll puppet, camera binoculars, laptop television
object: radio telephone, piano violin, microphone amplifier, fridge oven, microwave toaster, kettle blender
object: heater radiator, bathtub shower, sauna jacuzzi, bracelet anklet
place: school university, library bookstore, museum zoo, restaurant cafe, hotel hostel, park garden
place: beach island, river lake, forest desert, airport harbor, bridge tunnel, castle lighthouse
place: church temple, farm orchard, aquarium circus, market mall, kitchen pantry, bedroom attic
place: office factory, stadium gym, hospital pharmacy, cinema arcade
transport: car truck, bus tram, train subway, bicycle motorcycle, airplane helicopter, rocket satellite
transport: taxi limousine, scooter skateboard, canoe raft, sled snowmobile, tractor bulldozer, ferry yacht
job: doctor nurse, teacher librarian, police detective, firefighter paramedic, chef baker, pilot astronaut
job: farmer gardener, singer dancer, actor magician, painter sculptor, lawyer accountant, soldier sailor
job: plumber electrician, waiter bartender, pirate viking, clown juggler, knight samurai, dentist optician
nature: sun moon, star comet, rain snow, cloud fog, rainbow sunset, volcano geyser, sand mud
nature: rose tulip, grass moss, leaf petal, acorn pinecone, waterfall fountain, cave canyon, summer winter
activity: football basketball, tennis badminton, golf hockey, swimming diving, jogging cycling
activity: skiing skating, boxing wrestling, chess checkers, yoga pilates, fishing hunting, camping hiking
activity: painting sketching, reading writing, knitting sewing, whistling clapping, crying sighing
idea: birthday wedding, holiday festival, gift trophy, song poem, movie cartoon, novel comic, map compass
idea: joke riddle, secret rumor, coin banknote, drum tambourine, flute trumpet, ghost vampire
idea: dragon dinosaur, angel fairy, robot alien, wizard elf
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


def _held_out(pair: tuple[str, str, str]) -> bool:
    """About one pair in five, chosen by a stable hash of the pair (not by position, so edits keep it)."""
    return hashlib.sha256(f"{pair[0]}|{pair[1]}".encode()).digest()[0] % 5 == 0


#: Every word pair, ``(word_a, word_b, category)``.
WORD_PAIRS: tuple[tuple[str, str, str], ...] = _parse(_PAIRS)
#: The pairs for training and the held-out pairs for evaluation (disjoint; together ``WORD_PAIRS``).
TRAIN_PAIRS: tuple[tuple[str, str, str], ...] = tuple(p for p in WORD_PAIRS if not _held_out(p))
HELD_OUT_PAIRS: tuple[tuple[str, str, str], ...] = tuple(p for p in WORD_PAIRS if _held_out(p))
SPLITS = {"all": WORD_PAIRS, "train": TRAIN_PAIRS, "held-out": HELD_OUT_PAIRS}
#: The category of each word (public knowledge: it is the shipped list).
CATEGORY: dict[str, str] = {w: c for a, b, c in WORD_PAIRS for w in (a, b)}
