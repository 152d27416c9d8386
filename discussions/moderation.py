"""The word list that posts are checked against (discussions/blocked_words.txt).

A post with a listed word is refused, and the message names the word, so the resident can
rephrase at once: nothing waits in a queue, and moderators spend their time on reports.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BLOCKED_WORDS_FILE = Path(__file__).resolve().parent / "blocked_words.txt"
WORD = re.compile(r"\w+")
CYRILLIC = re.compile(r"[а-я]")
# Latin letters that look like Cyrillic ones, as used to slip a word past a filter.
LOOKALIKES = str.maketrans("aceopxykmtbh", "асеорхукмтвн")


@dataclass(frozen=True)
class WordList:
    words: frozenset[str]
    stems: tuple[str, ...]
    parts: tuple[str, ...]

    def match(self, word: str) -> bool:
        return (
            word in self.words
            or word.startswith(self.stems)
            or any(part in word for part in self.parts)
        )


@cache
def blocked_words() -> WordList:
    entries = [
        line.strip().lower()
        for line in BLOCKED_WORDS_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return WordList(
        words=frozenset(entry for entry in entries if "*" not in entry),
        stems=tuple(e[:-1] for e in entries if e.endswith("*") and not e.startswith("*")),
        parts=tuple(e.strip("*") for e in entries if e.startswith("*") and e.endswith("*")),
    )


def normalize_word(word: str) -> str:
    word = word.lower().replace("ё", "е")
    if CYRILLIC.search(word):
        word = word.translate(LOOKALIKES)
    return word


def blocked_word_in(text: str) -> str | None:
    """The first word of ``text`` that the list refuses, as written, or None."""
    words = blocked_words()
    for match in WORD.finditer(text):
        if words.match(normalize_word(match[0])):
            return match[0]
    return None
