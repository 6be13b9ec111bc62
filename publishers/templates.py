"""Post templates: the wording of every post, in Jinja2 files an editor can change.

The formatters (`publishers/format_*.py`) decide what goes in and fit the result within
`publishers.limits`; a template only says how the pieces read. Each template is a name
in `TEMPLATES` (`telegram.item`, `x.release`, …) with its markup: Telegram's are HTML,
rendered with autoescape on (every value arrives escaped by `telegram_html.escape`, so
a title's `&` or `<` stays text; `link(url, text)` writes a link), X's are plain text.

A name resolves, first found: `<name>.<lang>.j2` then `<name>.j2` in the configured
folder (`publishing.templates_dir`), then the same in the bundled defaults
(`publishers/templates/`). Everything renders in Jinja2's `ImmutableSandboxedEnvironment`
with `StrictUndefined`: a template cannot reach Python internals (`__class__`, `mro`,
…), change a value it is given, or use a name it was not given. An override that does
not compile, does not render, or renders HTML Telegram would refuse is reported once
(`TemplateProblem`, to the `report` callback the bot wires to the editors) and the
bundled default is used instead: a post is never lost to a template.

Pure apart from `load_templates` and `bundled_templates`, which read files once at
start; the formatters get a `PostTemplates` value and do no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.domain.issue import Lang, Link
from publishers.telegram_html import escape, escape_attribute, parse_html

Markup_ = Literal["html", "text"]
SUFFIX = ".j2"

# Every template the formatters render, and its markup. A new post kind adds its names
# here and its default files in `publishers/templates/` (ARCHITECTURE.md, "Post templates").
TEMPLATES: Mapping[str, Markup_] = {
    "telegram.item": "html",
    "telegram.digest_header": "html",
    "telegram.digest_section": "html",
    "telegram.digest_line": "html",
    "telegram.digest_footer": "html",
    "telegram.release": "html",
    "telegram.link": "html",
    "telegram.roundup_header": "html",
    "telegram.roundup_entry": "html",
    "x.item": "text",
    "x.digest": "text",
    "x.digest_section": "text",
    "x.release": "text",
    "x.link": "text",
}


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """A template not used, and why: told to the editors once per (file, content)."""

    name: str  # the file's name without `.j2` (`telegram.item.zh`), or the folder
    digest: str  # the first 12 hex digits of the source's SHA-256 ("" without a source)
    error: str  # one line

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.digest)


Report = Callable[[TemplateProblem], None]


class UnknownTemplate(ValueError):
    """A template name `TEMPLATES` does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown template {name!r}; the templates are: {', '.join(TEMPLATES)}")


def _html_link(url: object, text: object) -> Markup:
    """`link(url, text)` in a Telegram template: the formatters' own link, escaped once."""
    raw_url = url.unescape() if isinstance(url, Markup) else str(url)
    shown = str(text) if isinstance(text, Markup) else escape(str(text))
    return Markup(f'<a href="{escape_attribute(raw_url)}">{shown}</a>')  # noqa: S704


def _environment(markup: Markup_) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=markup == "html",
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    if markup == "html":
        env.globals["link"] = _html_link
    return env


def _html_value(value: object) -> object:
    """A value as a Telegram template gets it: text escaped by the formatters' rule."""
    if isinstance(value, Markup) or value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return Markup(escape(value))  # noqa: S704
    if isinstance(value, Link):
        return {"title": _html_value(value.title), "url": _html_value(value.url)}
    if isinstance(value, Mapping):
        return {k: _html_value(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_html_value(v) for v in value]
    return value


def _text_value(value: object) -> object:
    if isinstance(value, Link):
        return {"title": value.title, "url": value.url}
    if isinstance(value, Mapping):
        return {k: _text_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text_value(v) for v in value]
    return value


def _digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]


def _one_line(exc: BaseException) -> str:
    where = f" (line {exc.lineno})" if isinstance(exc, TemplateSyntaxError) and exc.lineno else ""
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {message}{where}"[:300]


def _base_name(stem: str) -> str:
    """`telegram.item.zh` → `telegram.item`; a stem that names no template is itself."""
    if stem in TEMPLATES:
        return stem
    head, _, _ = stem.rpartition(".")
    return head if head in TEMPLATES else stem


@dataclass(frozen=True, slots=True)
class _Compiled:
    template: Template
    digest: str


@dataclass(frozen=True, eq=False)
class PostTemplates:
    """The templates of one run: the bundled defaults and the editor's overrides.

    `report` hears every override that was not used (at load and at each failed
    render); the bot's reporter tells the editors once per file and content.
    """

    defaults: Mapping[str, _Compiled]
    overrides: Mapping[str, _Compiled] = field(default_factory=dict)
    report: Report | None = None

    def render(self, name: str, lang: Lang | None, /, **values: object) -> str:
        """What template `name` (in `lang`, when it has variants) makes of `values`."""
        markup = TEMPLATES.get(name)
        if markup is None:
            raise UnknownTemplate(name)
        given = (
            {k: _html_value(v) for k, v in values.items()}
            if markup == "html"
            else {k: _text_value(v) for k, v in values.items()}
        )
        stems = [f"{name}.{lang}", name] if lang is not None else [name]
        for stem in stems:
            override = self.overrides.get(stem)
            if override is None:
                continue
            try:
                out = override.template.render(given)
                if markup == "html":
                    parse_html(out)  # Telegram would refuse it: the default goes instead
            except Exception as exc:  # any failure of an editor's template: the default
                self._tell(TemplateProblem(stem, override.digest, _one_line(exc)))
                break
            return out
        for stem in stems:
            default = self.defaults.get(stem)
            if default is not None:
                return default.template.render(given)
        raise UnknownTemplate(name)  # pragma: no cover - every name ships a default

    def source_of(self, name: str, lang: Lang | None) -> str:
        """Which file `name` renders from in `lang`: an override's stem, or `(bundled)`."""
        stems = [f"{name}.{lang}", name] if lang is not None else [name]
        for stem in stems:
            if stem in self.overrides:
                return f"{stem}{SUFFIX}"
        for stem in stems:
            if stem in self.defaults:
                return f"{stem}{SUFFIX} (bundled)"
        raise UnknownTemplate(name)  # pragma: no cover

    def defaults_only(self) -> PostTemplates:
        """The bundled templates alone, with the same `report`."""
        return PostTemplates(self.defaults, {}, self.report)

    def overridden(self, names: Iterable[str], lang: Lang | None) -> list[tuple[str, str]]:
        """(stem, digest) of each override that renders one of `names` in `lang`."""
        found = []
        for name in names:
            stems = [f"{name}.{lang}", name] if lang is not None else [name]
            stem = next((s for s in stems if s in self.overrides), None)
            if stem is not None:
                found.append((stem, self.overrides[stem].digest))
        return found

    def unfit(self, names: Iterable[str], lang: Lang | None, why: str) -> None:
        """Report the overrides of `names`: the post they make cannot fit (`why`)."""
        for stem, digest in self.overridden(names, lang):
            self._tell(TemplateProblem(stem, digest, why))

    def _tell(self, problem: TemplateProblem) -> None:
        if self.report is not None:
            self.report(problem)


def _compile(sources: Mapping[str, str], report: Report | None) -> dict[str, _Compiled]:
    envs = {markup: _environment(markup) for markup in ("html", "text")}
    compiled: dict[str, _Compiled] = {}
    for stem, source in sources.items():
        base = _base_name(stem)
        digest = _digest(source)
        if base not in TEMPLATES:
            if report is not None:
                report(
                    TemplateProblem(
                        stem,
                        digest,
                        f"no template has this name; the templates are: {', '.join(TEMPLATES)}",
                    )
                )
            continue
        try:
            template = envs[TEMPLATES[base]].from_string(source)
        except Exception as exc:  # a syntax error, or anything else the compiler raises
            if report is None:
                raise
            report(TemplateProblem(stem, digest, _one_line(exc)))
            continue
        compiled[stem] = _Compiled(template, digest)
    return compiled


@cache
def _bundled_sources() -> Mapping[str, str]:
    folder = resources.files("publishers") / "templates"
    return {
        entry.name.removesuffix(SUFFIX): entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(SUFFIX)
    }


@cache
def _bundled() -> Mapping[str, _Compiled]:
    return _compile(_bundled_sources(), None)


def bundled_templates() -> PostTemplates:
    """The defaults alone (read once): today's posts, what a formatter uses unless told."""
    return PostTemplates(_bundled())


def bundled_source(stem: str) -> str | None:
    """A bundled file's text (`telegram.item`, `telegram.release.zh`), or None."""
    return _bundled_sources().get(stem)


def load_templates(folder: Path | None, *, report: Report | None = None) -> PostTemplates:
    """The bundled defaults, overridden by the `*.j2` files of `folder` (None: none).

    A file that cannot be read or compiled, or whose name is no template's, is reported
    and left out; a name with no file keeps its default. A folder that does not exist is
    one problem, and the defaults are used.
    """
    sources: dict[str, str] = {}
    if folder is not None:
        try:
            paths = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX))
        except OSError as exc:
            if report is not None:
                report(TemplateProblem(str(folder), "", f"cannot read the folder: {exc.strerror}"))
            paths = []
        for path in paths:
            stem = path.name.removesuffix(SUFFIX)
            try:
                sources[stem] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                if report is not None:
                    report(TemplateProblem(stem, "", f"cannot read it: {_one_line(exc)}"))
    return PostTemplates(_bundled(), _compile(sources, report), report)
