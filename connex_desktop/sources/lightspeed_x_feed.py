"""Where a Lightspeed X-Series sales feed stood after a confirmed run, kept between runs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FeedPosition:
    """The highest sale version read, and the returns read so far by the sale they return:
    a sale changed later needs all its refunds, and its returns may lie before `after`."""

    after: int = 0
    returns: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> FeedPosition | None:
        """The position a run left (None when there is none, or it cannot be read: then the
        feed is read whole, as on a first sync)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            position = cls(int(data["after"]), {str(sale): [str(r) for r in returns]
                                                for sale, returns in data["returns"].items()})
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return position

    def text(self) -> str:
        return json.dumps({"after": self.after, "returns": {
            sale: list(returns) for sale, returns in sorted(self.returns.items())}})

    def moved(self, after: int, seen: Mapping[str, Sequence[str]]) -> FeedPosition:
        """This position moved on to `after`, with the returns `seen` since added."""
        returns = {sale: list(ids) for sale, ids in self.returns.items()}
        for sale, ids in seen.items():
            known = returns.setdefault(sale, [])
            known += [return_id for return_id in ids if return_id not in known]
        return FeedPosition(max(self.after, after), returns)
