"""How many images a sequential (group) generation makes: what the prompt asks for, capped by the request.

Every surface documents its count parameter as an upper bound (Runware `maxSequentialImages` "the model
may generate fewer", EvoLink `n` "include in the prompt 'generate 2 different images'", Replicate
`sequential_image_generation: auto` "lets the model decide", Wiro `maxImages`). In `prompt` mode (the
default) the count is the first explicit count in the prompt, English or Chinese, digits or words; one
image when it asks for none. `max` mode always makes the cap (the most a client must handle).
"""

from __future__ import annotations

import re
from typing import Literal

Mode = Literal["prompt", "max"]
MODES: tuple[Mode, ...] = ("prompt", "max")

ENGLISH = {
    "a": 1, "an": 1, "one": 1, "single": 1, "two": 2, "pair": 2, "couple": 2, "three": 3, "four": 4,
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "dozen": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20,
}  # fmt: skip
CHINESE = {"零": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NOUNS = (
    "images?|pictures?|pics?|photos?|photographs?|illustrations?|variations?|variants?|versions?|frames?|"
    "panels?|shots?|posters?|scenes?|renders?|drawings?|paintings?|artworks?|stickers?|icons?|logos?|"
    "designs?|portraits?|storyboards?|slides?|cards?|wallpapers?"
)
NUMBER = r"\d{1,3}|" + "|".join(sorted((word for word in ENGLISH if len(word) > 2), key=len, reverse=True))
# "generate 3 images", "four different pictures", "a set of four", "a series of 5 posters"
COUNTED_NOUN = re.compile(rf"\b(?P<n>{NUMBER})\b(?:[\s-]+[\w'-]+){{0,3}}?[\s-]+(?:{NOUNS})\b", re.IGNORECASE)
SET_OF = re.compile(
    rf"\b(?:set|series|sequence|collection|group|batch|pack|grid)\s+of\s+(?P<n>{NUMBER})\b", re.IGNORECASE
)
CHINESE_NUMBER = "[零一二两俩三四五六七八九十]{1,3}|\\d{1,3}"
# "生成3张", "四张图片", "一组四张", "5幅", "两个版本"
CHINESE_COUNT = re.compile(rf"(?P<n>{CHINESE_NUMBER})\s*(?:张|幅|副|帧|款|个版本|种版本|套)")


# Cheap test that an ASCII prompt names no number at all (no digit, no number word), which most prompts don't: the
# patterns above cost tens of microseconds per prompt to say the same. Only for ASCII text, where lower-casing is
# exactly what IGNORECASE matches (beyond ASCII it also matches folds such as "ſ" for "s").
DIGIT = re.compile(r"[0-9]")
NUMBER_WORDS = tuple(word for word in ENGLISH if len(word) > 2)


def _names_no_number(prompt: str) -> bool:
    if not prompt.isascii() or DIGIT.search(prompt):
        return False
    return not any(map(prompt.lower().__contains__, NUMBER_WORDS))


def asked_count(prompt: str) -> int | None:
    """The first explicit image count in a prompt, or None when it asks for no number."""
    if _names_no_number(prompt):
        return None
    found = [
        (match.start(), value)
        for pattern in (COUNTED_NOUN, SET_OF, CHINESE_COUNT)
        for match in pattern.finditer(prompt)
        if (value := _value(match.group("n"))) is not None and value > 0
    ]
    return min(found)[1] if found else None


def ask(prompt: str, images: int) -> str:
    """`prompt` asking for `images` images in the words the seeds suggest ("generate 2 different images"), so that
    a client, test or harness case that wants a group gets one in `prompt` mode; unchanged for one image."""
    return prompt if images <= 1 else f"{prompt}, generate {images} different images"


def decide(prompt: str, cap: int, mode: Mode = "prompt") -> int:
    """Images a group generation makes: `cap` in `max` mode, else what the prompt asks for, within 1..cap."""
    if cap <= 1:  # one at most, whatever the prompt asks (the common maxSequentialImages 1 reads no prompt)
        return 1
    if mode == "max":
        return cap
    return max(1, min(cap, asked_count(prompt) or 1))


def _value(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    word = text.lower()
    if word in ENGLISH:
        return ENGLISH[word]
    return _chinese(text)


def _chinese(text: str) -> int | None:
    if not text or any(char not in CHINESE and char != "十" for char in text):
        return None
    if "十" not in text:
        return int("".join(str(CHINESE[char]) for char in text)) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    return (CHINESE[tens] if tens else 1) * 10 + (CHINESE[ones] if ones else 0)
