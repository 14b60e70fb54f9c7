"""Agents: the protocol, baselines (random, scripted, human), LLM agents and policy backends.

Heavy pieces (LLM agents, backends, torch) load lazily: ``from arena.agents.llm import LLMAgent``.
"""

from arena.agents.base import Agent, BaseAgent
from arena.agents.human import HumanAgent
from arena.agents.match import MatchResult, play
from arena.agents.random_agent import RandomAgent
from arena.agents.specs import make_agent

__all__ = ["Agent", "BaseAgent", "HumanAgent", "MatchResult", "RandomAgent", "make_agent", "play"]
