"""A season's titles → the words of its word cloud, counted.

Chinese has no spaces: jieba cuts the titles into words (its own dictionary, loaded
once per process, ~1 s: call this off the event loop). English and the Latin names in
Chinese titles come out whole. A word counts when it is not a stop word, has a letter
or a CJK character, is not a number, and is not a single CJK character or a single
letter. Case is folded for counting (`Python` and `python` are one word) and the
form seen most is shown.

The stop words are our own lists, as the editor's script keeps one: Chinese function
words and the newsletter's boilerplate, English function words, and the words every
title of this newsletter could carry (Python, 周刊), which would only fill the cloud.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import Counter
from collections.abc import Iterable

import jieba

_ZH = """
    的 了 和 与 及 或 在 是 为 对 从 到 把 被 让 用 以 于 中 上 下 里 个 们 这 那 哪 什么
    怎么 怎样 如何 为什么 为何 吗 呢 吧 啊 呀 也 都 就 还 又 再 很 更 最 太 非常 一个 一些
    一种 一次 一下 一起 这个 那个 这些 那些 这样 那样 我们 你们 他们 它们 我 你 他 她 它
    自己 没有 不是 不要 可以 可能 能够 应该 需要 使用 利用 通过 关于 以及 还是 而且 但是
    如果 因为 所以 虽然 然后 之后 之前 之间 以上 以下 其中 其他 各种 所有 每个 任何 已经
    正在 进行 实现 支持 基于 一款 一份 一篇 一文 本期 全文 周刊 潮流 分享 推荐 介绍 指南
    教程 文章 项目 开源 工具 库 框架 版本 新 旧 大 小 好 多 少 第 期 篇 款 份 种 次 年 月 日
    你的 我的 他的 用于 来 去 说 看 做 会 能 要 想 得 地 着 过 等 等等 之 其 及其 即 并 且
    而 则 却 只 仅 不 没 无 有 将 向 给 跟 同 比 由 按 据 经 当 时 后 前 内 外 间 起
"""
_EN = """
    a an the and or but nor of in on at to for from by with without about into onto over
    under up down out off than then so as is are was were be been being am do does did
    doing done have has had having it its it's this that these those there here what which
    who whom whose when where why how all any both each few more most other some such no
    not only own same too very can could will would shall should may might must just
    your you yours we our us they their them he she his her i me my mine vs via using use
    used new get got make made one two first part guide tutorial introduction intro
    how-to python py weekly issue article articles project projects
"""
STOP_WORDS_ZH: frozenset[str] = frozenset(_ZH.split())
STOP_WORDS_EN: frozenset[str] = frozenset(_EN.split())
STOP_WORDS: frozenset[str] = STOP_WORDS_ZH | STOP_WORDS_EN

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_NUMBER = re.compile(r"^[\d.,%+\-xX]+$")
_EDGES = "'\"“”‘’()（）[]【】《》<>「」:：,，.。!！?？;；、/\\|-_*#`~"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def tokenizer() -> jieba.Tokenizer:
    """jieba's tokenizer, its dictionary loaded once (quietly) and shared."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            made = jieba.Tokenizer()
            made.initialize()
            _tokenizer = made
        return _tokenizer


def keep(word: str) -> bool:
    """Whether a cut piece is a word of the cloud (see the module's rules)."""
    if not word or word.casefold() in STOP_WORDS or _NUMBER.match(word):
        return False
    cjk = len(_CJK.findall(word))
    if cjk:
        return len(word) >= 2
    return len(_LETTER.findall(word)) >= 2


def title_words(titles: Iterable[str]) -> Counter[str]:
    """How often each word appears in `titles`, shown in its most frequent form."""
    cut = tokenizer()
    forms: dict[str, Counter[str]] = {}
    for title in titles:
        for piece in cut.lcut(title):
            word = piece.strip().strip(_EDGES)
            if keep(word):
                forms.setdefault(word.casefold(), Counter())[word] += 1
    return Counter({seen.most_common(1)[0][0]: seen.total() for seen in forms.values()})
