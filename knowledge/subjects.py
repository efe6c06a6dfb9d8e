"""What a question and a fact are about: the subject words of a question (not how or when it
asks, not its regions), and whether an answer's facts speak of them. Follow-ups use it to tell a
reading about the new subject from one that fell back on the previous question's."""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.analyzer import Analyzer, normalize
from knowledge.answer import Answer
from knowledge.base import KnowledgeBase
from knowledge.schema import Event
from knowledge.search import in_two


class Subjects:
    def __init__(self, kb: KnowledgeBase, analyzer: Analyzer, region_words: Iterable[str]) -> None:
        self.kb = kb
        self.analyzer = analyzer
        self.region_words = frozenset(region_words)
        lexicon = analyzer.lexicon
        topics = lexicon.topics
        self.topic_forms = sorted(
            {*topics, *(v for v, c in lexicon.synonyms.items() if c in topics and len(v) >= 2)}, key=len, reverse=True
        )
        """Every way a topic is written (成绩, 分数, 考分…), longest first, for taking it out of a question."""
        self.topic_pattern = re.compile("|".join(map(re.escape, self.topic_forms)))
        """Any way a topic is written."""
        forms: dict[str, list[str]] = {}
        for variant, canonical in lexicon.synonyms.items():
            forms.setdefault(canonical, [canonical]).append(variant)
        self._forms = {w: tuple(f) for w, f in forms.items()}
        """Canonical word → every way it is written."""
        self._said: dict[str, str] = {}
        """What each fact says, normalised when first asked about (normalising ten thousand facts
        would slow the start)."""

    def words(self, text: str) -> list[str]:
        """The words of `text` that say what it is about (not how or when it asks)."""
        form = self.analyzer.lexicon.form_words
        return [w for w in self.analyzer.words(text) if w not in form and w not in self.region_words]

    def answered(self, answer: Answer, text: str, besides: str = "") -> bool:
        """Whether the facts of `answer` speak of the subject `text` names (any of its words; with
        `besides`, any of its words that text does not have)."""
        wanted = set(self.new_words(text, besides) if besides else self.words(text))
        if besides and not wanted:
            return False
        if not wanted:
            return True
        said = " ".join(self._fact_text(f) for f in answer.fact_ids)
        # Substrings, not tokens: a fact says 报名日期 as one word. Not one-character forms of a
        # longer word (报 for 报名: it is in 报送, 上报 too).
        return any(
            form in said for w in wanted for form in self._forms.get(w, (w,)) if len(form) > 1 or len(w) == 1
        ) or any(in_two(w, said.__contains__) for w in wanted)  # 证书发放: 证书…发放

    def new_words(self, text: str, besides: str) -> list[str]:
        """The subject words of `text` that `besides` does not say, as a substring too (鉴定 is in
        鉴定机构 of the previous question)."""
        return [w for w in self.words(text) if not any(f in besides for f in self._forms.get(w, (w,)))]

    def _fact_text(self, fact_id: str) -> str:
        """The fact's text with its topic, keywords and action, which name its subject too: the
        exam-dates fact says 统一鉴定时间 in its text and 考试时间 only among its keywords."""
        said = self._said.get(fact_id)
        if said is None:
            entry = self.kb.by_id.get(fact_id)
            fact = entry.fact if entry is not None else None
            parts = [fact.title, fact.answer, fact.topic, *fact.keywords, getattr(fact, "action", "")] if fact else []
            if isinstance(fact, Event) and fact.if_missed:
                parts += [fact.if_missed, "后果"]  # 不交会咋样 asks the consequence this fact states
            said = self._said[fact_id] = normalize(" ".join(parts))
        return said
