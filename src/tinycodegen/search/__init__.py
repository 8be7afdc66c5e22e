"""``python -m tinycodegen search``: the most accurate model that fits a device budget."""

from tinycodegen.search.run import SearchResult, run_search
from tinycodegen.search.space import Candidate, default_space

__all__ = ["Candidate", "SearchResult", "default_space", "run_search"]
