"""``household-v0``: an ALFWorld-like household generated from a seed (see :mod:`arena.envs.household.env`).

Modules: ``catalog`` (receptacle/object tables), ``tasks`` (the six task types and goal templates),
``scenes`` (the fixed house catalogue and splits), ``generate`` (drawing a task and placing objects),
``world`` (the simulator), ``env`` (the PettingZoo env).
"""
