"""Whether a sentence tells a person to do something ("Tag the release") or describes what happens ("Stages the
updated app package", "The scheduler retries failed jobs").

A cheap, explainable test rather than a language model: the first word that matters (after list numbering,
check boxes, emphasis, "First,", "Then", and an introductory clause such as "After the build passes," or "To
release,") is looked up in a list of verbs people use in instructions. The base form is an instruction; the
third-person form of one of those verbs ("creates", "pushes"), a determiner or a pronoun ("the", "this", "it",
"we") starts a description. "You must/should/need to <verb>" and "Please <verb>" are instructions too.
"""

from __future__ import annotations

import re
from typing import Literal

Mood = Literal["imperative", "descriptive", "unknown"]

_VERB_LIST = """
    add adjust announce apply approve archive ask assign attach back backport build bump cancel change check
    checkout cherry-pick choose clean clear click clone close commit compile configure confirm connect copy create
    cut delete deploy describe destroy disable download drain drop edit email enable ensure enter execute export
    fetch file fill find finish fix follow fork generate get give go grant increment inform initialise initialize
    insert install invoke kill label launch leave let list load lock log login look make mark merge migrate mirror
    modify monitor mount move navigate note notify obtain open pause pick pin ping place post prepare press promote
    provide provision publish pull purge push put re-run read rebase rebuild reboot record redeploy reload remove
    rename replace request rerun reset resolve restart restore resume retag retry return revert review revoke roll
    rollback rotate run save scale schedule select send set setup share shut sign ssh stage start stop submit switch
    sync tag take test tell trigger truncate try turn type unlock unpause update upgrade upload use validate verify
    visit wait watch wipe write
"""
IMPERATIVE_VERBS = frozenset(_VERB_LIST.split())
# "sets" is set+s, "pushes" push+es, "applies" apply -> appl+ies.
_THIRD_PERSON = re.compile(r"^(?P<stem>[a-z-]+?)(?:ies|es|s)$")
DESCRIPTIVE_STARTS = frozenset(
    [
        "the", "this", "that", "these", "those", "it", "its", "a", "an", "each", "every", "all", "any", "our",
        "their", "there", "they", "we", "he", "she", "one", "both", "either", "neither", "some", "most", "many",
        "such", "which",
    ]
)
_LEADING = re.compile(
    r"^(?:\[[ xX]\]\s*|\d+[.)]\s*|step\s+\d+\s*[:.)-]?\s*|[*_~]+|"
    r"(?:first|then|next|finally|now|optionally|also|afterwards|lastly|second|third)\b,?\s*)",
    re.IGNORECASE,
)
_INTRO_CLAUSE = re.compile(
    r"^(?:after|before|once|if|when|to|in|on|at|from|for|with|using|as|until|unless|while|during|where|under|"
    r"inside|within|via|through|by|below|above|beside|into|optionally|otherwise|alternatively)\b[^,:]{0,120}[,:]"
    r"\s*",
    re.IGNORECASE,
)
_MODAL = re.compile(r"^(?:you\s+(?:must|should|need\s+to|have\s+to|will\s+need\s+to)|please|do\s+not|don't)\s+",
                    re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def _core(text: str) -> str:
    """The text from its first word that matters: numbering, check boxes, leading adverbs and an introductory
    clause removed."""
    rest = text.strip()
    for _ in range(4):  # numbering, a check box, emphasis and an adverb may all lead
        stripped = _LEADING.sub("", rest, count=1).lstrip()
        if stripped == rest:
            break
        rest = stripped
    for _ in range(2):  # "On the Create Role window, under Trusted entity, select Web Identity."
        clause = _INTRO_CLAUSE.match(rest)
        if clause is None or clause.end() >= len(rest) or rest.startswith("`"):
            break
        rest = rest[clause.end():]
    return rest


def mood(text: str) -> Mood:
    """The mood of a step's or sentence's text (see the module doc). Code spans count as words."""
    rest = _core(text)
    if rest.startswith("`"):
        # The step starts with the command itself, unless the command is the subject ("`make x` builds ...").
        close = rest.find("`", 1)
        after = _WORD.match(rest[close + 1 :].lstrip()) if close > 0 else None
        if after is not None and _is_third_person(after.group(0).lower()):
            return "descriptive"
        return "imperative"
    modal = _MODAL.match(rest)
    if modal is not None:
        return "imperative"
    word = _WORD.match(rest)
    if word is None:
        return "unknown"
    first = word.group(0).lower()
    if first == "go" and not re.match(r"go\s+(?:to|back|ahead|through|into|over)\b", rest, re.IGNORECASE):
        return "unknown"  # "Go libraries must ..." names the language
    if first in IMPERATIVE_VERBS:
        return "imperative"
    if first in DESCRIPTIVE_STARTS:
        return "descriptive"
    return "descriptive" if _is_third_person(first) else "unknown"


_AUXILIARIES = frozenset(
    [
        "is", "are", "was", "were", "does", "do", "has", "have", "will", "would", "can", "could", "may", "might",
        "must", "should",
    ]
)


def _is_third_person(word: str) -> bool:
    """"creates", "pushes", "applies", or an auxiliary ("is", "will"): what a subject does, not an order."""
    if word in _AUXILIARIES:
        return True
    third = _THIRD_PERSON.match(word)
    if third is None:
        return False
    stem = third.group("stem")
    return bool({stem, stem + "e", stem + "y", word[:-1]} & IMPERATIVE_VERBS)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


# Verbs that send a person to read something: advice about documentation, not work.
READING_VERBS = frozenset({"read", "see", "refer", "consult", "note", "visit", "look", "learn", "review", "check"})


def instructs_work(sentence: str) -> bool:
    """An imperative sentence whose verb is an action, not "read", "see" or "note"."""
    if mood(sentence) != "imperative":
        return False
    rest = _MODAL.sub("", _core(sentence), count=1)
    word = _WORD.match(rest)
    return word is None or word.group(0).lower() not in READING_VERBS


def sentences(text: str) -> list[str]:
    """A paragraph cut into sentences (at `.`, `!` or `?` followed by a capital letter or a code span)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


_JOINED_ACTION = re.compile(r"(?:\band\b|\bthen\b|,|;)\s+(?:then\s+)?([a-z-]+)", re.IGNORECASE)


def actions(sentence: str) -> int:
    """How many instructions an imperative sentence joins: its first verb plus each verb after "and", "then", a
    comma or a semicolon ("Create the release and upload the artifacts" gives 2)."""
    if mood(sentence) != "imperative":
        return 0
    return 1 + sum(1 for m in _JOINED_ACTION.finditer(_core(sentence)) if m.group(1).lower() in IMPERATIVE_VERBS)
