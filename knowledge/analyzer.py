"""Chinese text analysis: normalisation, segmentation, synonyms and homophone typo repair.

Segmentation uses jieba with a reduced copy of its dictionary (the most frequent words, see
`knowledge.dictionaries`) plus the domain vocabulary.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from knowledge.dictionaries import DICT_WORDS, char_pinyin, jieba, prefix_table, word_tags
from knowledge.disk_cache import user_cache
from knowledge.yaml_files import load_yaml

LEXICON_FILE = Path(__file__).parent / "lexicon.yaml"
WORD_MEMOS_KEPT = 8
"""Analysed-text memos kept in the cache, one per vocabulary (published notices add words)."""
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PUNCT = re.compile(r"[\s\u3000,，。.!！?？;；:：、'\"“”‘’()（）\[\]【】〔〕<>《》…—\-_~·/\\|@#$%^&*+=`]+")

jieba.setLogLevel(logging.WARNING)


@cache
def _t2s() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


MAX_QUESTION = 300
"""Characters of a question analysed; the rest of a pasted essay adds noise, not meaning."""
_REPAIR_MEMO = 4096
"""Repaired (and segmented) texts kept; a memo starts afresh when full (cheaper than an LRU)."""


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Full-width to half-width, traditional to simplified characters, lower case, one space.
    Memoised: a follow-up normalises the same few texts many times, and opencc is slow."""
    text = unicodedata.normalize("NFKC", text or "")
    if _CJK.search(text):
        text = _t2s().convert(text)
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[str, ...]
    synonyms: dict[str, str]
    stopwords: frozenset[str]
    intents: dict[str, tuple[str, ...]]
    rewrites: tuple[tuple[re.Pattern[str], str], ...] = ()
    form_words: frozenset[str] = frozenset()
    smalltalk: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    """What a question is about (报名, 证书 …): a follow-up naming one replaces the previous one's."""
    foreign: tuple[re.Pattern[str], ...] = ()
    """Things the notices are never about (an ID card lost, a driving licence): a question about
    them is out of scope even when it shares words with a notice, or follows one."""
    typo_targets: frozenset[str] = frozenset()
    """Domain terms repaired into even when the slip is itself a word (坚定 → 鉴定, 补靠 → 补考)."""
    plain_words: frozenset[str] = frozenset()
    """Real words the segmenter's reduced dictionary lacks, never taken for a slip (一式 is not 遗失)."""

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        raw: dict[str, Any] = load_yaml(path)
        synonyms: dict[str, str] = {}
        for canonical, variants in (raw.get("synonyms") or {}).items():
            for v in variants:
                synonyms[normalize(v)] = canonical
        return cls(
            terms=tuple(normalize(t) for t in raw.get("terms") or ()),
            synonyms=synonyms,
            stopwords=frozenset(normalize(w) for w in raw.get("stopwords") or ()),
            intents={k: tuple(normalize(c) for c in v) for k, v in (raw.get("intents") or {}).items()},
            rewrites=tuple((re.compile(p), r) for p, r in raw.get("rewrites") or ()),
            typo_targets=frozenset(normalize(t) for t in raw.get("typo_targets") or ()),
            plain_words=frozenset(normalize(t) for t in raw.get("plain_words") or ()),
            form_words=frozenset(normalize(w) for w in raw.get("form_words") or ()),
            smalltalk=frozenset(normalize(w) for w in raw.get("smalltalk") or ()),
            foreign=tuple(re.compile(p) for p in raw.get("foreign") or ()),
            topics=frozenset(normalize(w) for w in raw.get("topics") or ()),
        )


def pinyin_key(text: str) -> tuple[str, ...]:
    table = char_pinyin()
    return tuple(table.get(ch, ch) for ch in text)


def _is_words_memo(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(words, list) and all(type(w) is str for w in words) for words in value.values()
    )


class Analyzer:
    """Turns text into the canonical content words that retrieval compares."""

    def __init__(
        self,
        lexicon: Lexicon,
        extra_terms: Iterable[str] = (),
        protected_terms: Iterable[str] = (),
        names: Iterable[str] = (),
        places: Iterable[str] = (),
    ) -> None:
        """`names` are never repaired, but nothing is repaired into one of them either: of thousands
        of place names, some sound like a slip of the pen (报计划 is not 宝鸡划); they are not added to
        the segmenter either (three thousand words cost a tenth of a second at start-up, and only
        the regions the notices govern reach retrieval). `places` join the vocabulary and are
        repaired into (广洲 → 广州), but not out of a real word's half (考务系统 is not 考无锡统).
        Both are given normalised (simplified characters)."""
        self.lexicon = lexicon
        self.tokenizer = jieba.Tokenizer()
        freq, total = prefix_table()
        # Set rather than initialised: jieba would read its own dictionary, or its cache in the
        # shared temp directory. A copy, since add_word below changes it.
        self.tokenizer.FREQ, self.tokenizer.total = dict(freq), total
        self.tokenizer.initialized = True
        vocab = {t for t in lexicon.terms if len(t) >= 2}
        vocab.update(normalize(t) for t in extra_terms if len(t) >= 2)
        vocab.update(v for v in lexicon.synonyms if len(v) >= 2)
        vocab.update(c for c in lexicon.synonyms.values() if len(c) >= 2)
        self._places = frozenset(t for t in places if len(t) >= 2) - vocab
        vocab |= self._places
        # Only kept from repair: looked up with the vocabulary, never a repair target.
        self._kept = frozenset(t for t in names if len(t) >= 2) - vocab  # given normalised: thousands
        self._kept |= lexicon.plain_words - vocab
        for term in sorted(vocab):
            # A high frequency makes jieba keep domain terms whole even when its own
            # dictionary prefers a split (e.g. 个人弃考声明 rather than 个人/弃考/声明).
            self.tokenizer.add_word(term, freq=200_000)
        self.vocab = frozenset(vocab)
        # Terms that may be repaired even when the typo is itself a word (电功 is physics, 电工 a trade).
        self.protected = frozenset(normalize(t) for t in protected_terms) | lexicon.typo_targets
        self._pinyin_index: dict[tuple[str, ...], str] | None = None
        self._repaired: dict[str, str] = {}
        self.memos: list[dict[Any, Any]] = []
        self._worded: dict[str, tuple[str, ...]] = {}
        self._vocab_by_len = sorted(self.vocab, key=len, reverse=True)
        self._covering = self.vocab | self._kept
        self._term_lengths = sorted({len(t) for t in self._covering}, reverse=True)

    # -- typo repair ---------------------------------------------------------------------------
    def _index(self) -> dict[tuple[str, ...], str]:
        if self._pinyin_index is None:
            index: dict[tuple[str, ...], str] = {}
            # Colloquial variants (好使, 拿到) are not repaired into: 号是 is not a slip for 好使.
            variants = set(self.lexicon.synonyms) - set(self.lexicon.synonyms.values()) - set(self.lexicon.terms)
            # The typo targets too, even where no fact uses them as a word of their own (鉴定).
            for term in [*self._vocab_by_len, *sorted(self.lexicon.typo_targets, key=len, reverse=True)]:
                if _CJK.search(term) and 2 <= len(term) <= 10 and term not in variants:
                    index.setdefault(pinyin_key(term), term)
            self._pinyin_index = index
        return self._pinyin_index

    def _is_real_word(self, text: str) -> bool:
        frequency: int = self.tokenizer.FREQ.get(text, 0)
        return frequency > 0

    def _covered(self, text: str) -> list[bool]:
        """Which characters of `text` some vocabulary term covers (every occurrence of every term).
        Looked up by position and term length: a search per term would cost a scan of the text for
        each of the thousands of terms."""
        covered = [False] * len(text)
        reach = 0
        for i in range(len(text)):
            for n in self._term_lengths:  # longest first: from one start, the longest match covers the rest
                if i + n <= len(text) and text[i : i + n] in self._covering:
                    reach = max(reach, i + n)
                    break
            covered[i] = i < reach
        return covered

    def _splits_a_word(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] begins with the second half of a word or ends with the first
        half of one (务系 in 考务系统)."""
        before = text[start - 1 : start + 1] if start > 0 else ""
        after = text[end - 1 : end + 1] if end < len(text) else ""
        return any(len(pair) == 2 and self._is_real_word(pair) for pair in (before, after))

    def repair(self, text: str) -> str:
        """Replace homophone misspellings of domain terms (鉴订费 → 鉴定费, 电功 → 电工). Memoised
        (bounded): a follow-up repairs the previous question again for each reading it tries."""
        repaired = self._repaired.get(text)
        if repaired is None:
            if len(self._repaired) >= _REPAIR_MEMO:
                self._repaired.clear()
            repaired = self._repaired[text] = self._repair(text)
        return repaired

    def forget(self) -> None:
        """Drop the memoised repairs and normalisations, and the memos of what reads text with this
        analyzer (benchmarks time answers from scratch)."""
        self._repaired.clear()
        self._worded.clear()
        for memo in self.memos:
            memo.clear()
        normalize.cache_clear()

    def memo(self) -> dict[Any, Any]:
        """A bounded-by-its-owner memo that `forget` clears with the analyzer's own."""
        found: dict[Any, Any] = {}
        self.memos.append(found)
        return found

    def _repair(self, text: str) -> str:
        covered = self._covered(text)
        if all(covered) or not _CJK.search(text):
            return text
        index = self._index()
        out: list[str] = []
        i = 0
        while i < len(text):
            replaced = False
            if not covered[i] and _CJK.match(text[i]):
                for n in range(min(10, len(text) - i), 1, -1):
                    window = text[i : i + n]
                    if any(covered[i : i + n]) or not all(_CJK.match(c) for c in window):
                        continue
                    meant = index.get(pinyin_key(window))
                    # A window that cuts a real word in half is not a typo (己是 in 我自己是 is not
                    # 技师, 务系 in 考务系统 is not 无锡). Two characters sound like some term all
                    # the time; three or more rarely do by accident (工做日报 is 工作日 + 报).
                    if meant and (n == 2 or meant in self._places) and self._splits_a_word(text, i, i + n):
                        continue
                    # A target no fact uses alone (鉴定) is meant only beside a domain term (坚定申报表,
                    # not 坚定支持).
                    beside = (i + n < len(text) and covered[i + n]) or (i > 0 and covered[i - 1])
                    if meant and meant not in self.vocab and not beside:
                        continue
                    if meant and meant != window and (meant in self.protected or not self._is_real_word(window)):
                        out.append(meant)
                        i += n
                        replaced = True
                        break
            if not replaced:
                out.append(text[i])
                i += 1
        return "".join(out)

    # -- tokens --------------------------------------------------------------------------------
    def rewrite(self, text: str) -> str:
        for pattern, replacement in self.lexicon.rewrites:
            text = pattern.sub(replacement, text)
        return text

    def words(self, text: str) -> list[str]:
        """Segmented words, canonicalised by the synonym table, without stopwords and punctuation.
        Memoised like repairs (a new list each call: callers may change theirs)."""
        found = self._worded.get(text)
        if found is None:
            if len(self._worded) >= _REPAIR_MEMO:
                self._worded.clear()
            found = self._worded[text] = tuple(self._words(text))
        return list(found)

    def _words(self, text: str) -> list[str]:
        out: list[str] = []
        # HMM off: jieba's guessed words (哪天要, 交完) would count as unknown topics.
        for raw in self.tokenizer.lcut(_PUNCT.sub(" ", self.rewrite(text)), HMM=False):
            w = raw.strip()
            if not w:
                continue
            w = self.lexicon.synonyms.get(w, w)
            # Bare numbers are dates or counts, which are matched structurally, not as words.
            if w in self.lexicon.stopwords or w.isdigit() or not (_CJK.search(w) or w.isalnum()):
                continue
            out.append(w)
        return out

    def without_tokens(self, text: str, drop: Callable[[str], bool]) -> str:
        """`text` with the tokens `drop` picks blanked out (given each token and, for a token
        written for a canonical word, 技校 for 技工院校, that word too), as segmented: 证书 goes,
        but not from 双证书 (a word of its own)."""
        synonyms = self.lexicon.synonyms
        return "".join(
            " " if drop(t) or ((c := synonyms.get(t)) is not None and drop(c)) else t
            for t in self.tokenizer.lcut(text, HMM=False)
        )

    def without_parts(self, text: str, part: re.Pattern[str]) -> str:
        """`text` with what `part` matches cut out of each token, where what is left of the token
        is nothing or words of the vocabulary: 退考退费登记 leaves 登记, but 双证书 stays whole (双
        is no word)."""
        out = []
        for token in self.tokenizer.lcut(text, HMM=False):
            rest = part.sub(" ", token)
            whole = rest == token or any(len(p) < 2 or p not in self.vocab for p in rest.split())
            out.append(token if whole else rest)
        return "".join(out)

    def fingerprint(self) -> str:
        """Identifies everything `words` depends on, for caching its results across runs."""
        h = hashlib.sha256()
        # Sorted: a set's order changes from run to run, and so would the fingerprint.
        for part in (jieba.__version__, str(DICT_WORDS), *sorted(self.vocab), *sorted(self.lexicon.stopwords)):
            h.update(part.encode("utf-8") + b"\0")
        for k in sorted(self.lexicon.synonyms):
            h.update(f"{k}={self.lexicon.synonyms[k]}".encode() + b"\0")
        for pattern, replacement in self.lexicon.rewrites:
            h.update(f"{pattern.pattern}->{replacement}".encode() + b"\0")
        return h.hexdigest()[:16]

    def words_memo(self, texts: Iterable[str]) -> dict[str, list[str]]:
        """`words` of many texts, memoised in the user's cache: the knowledge base's texts rarely
        change, and segmenting them all is most of the start-up time."""
        name = f"words-{self.fingerprint()}"
        memo: dict[str, list[str]] = user_cache().load(name, _is_words_memo) or {}
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        for t in missing:
            memo[t] = self.words(normalize(t))
        if missing:
            user_cache().store(name, memo)
            user_cache().prune("words-", keep=WORD_MEMOS_KEPT)
        return memo

    def is_topic_word(self, word: str) -> bool:
        """A noun-like word (公务员, 公租房, 护士) names what a question is about; filler such as
        那边 or 到手 does not. Words jieba does not know are taken as names of things."""
        if word in self.vocab:
            return True
        tag = word_tags().get(word)
        if tag is None:
            return len(word) >= 2 and bool(_CJK.search(word))
        return tag.startswith("n") or tag in {"vn", "nz", "eng"}

    def is_foreign(self, text: str) -> bool:
        return any(p.search(text) for p in self.lexicon.foreign)

    def is_smalltalk(self, text: str) -> bool:
        """The whole message is a greeting, thanks or a plea for help, not a question."""
        bare = _PUNCT.sub("", normalize(text))
        return bool(bare) and bare in self.lexicon.smalltalk

    def has_cue(self, text: str, intent: str) -> bool:
        return any(c in text for c in self.lexicon.intents.get(intent, ()))
