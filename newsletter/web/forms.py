"""Reading the subscribe and preferences forms: what was typed, what it means, what is wrong.

A form object keeps every value exactly as typed so a page with errors can show it again, and
collects one message per field so each appears beside its input. Nothing here touches the
database or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.datastructures import FormData

from newsletter.config import Settings
from newsletter.errors import InvalidInput
from newsletter.preferences import TopicSpec
from newsletter.store.models import Frequency, Subscriber
from newsletter.store.subscribers import normalize_email
from newsletter.web.catalog import CatalogEntry, catalog_label_ids

CUSTOM_ROWS = 3
MAX_CUSTOM_ROWS = 10
MAX_EMAIL = 320
MAX_LABEL = 200
MAX_KEYWORDS = 2000
MAX_DESCRIPTION = 1000
MAX_SHORT = 64

# Shown when JavaScript is off (or the browser's zone is missing); any IANA zone is accepted.
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Toronto",
    "America/Mexico_City",
    "America/Bogota",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "Atlantic/Reykjavik",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Zurich",
    "Europe/Stockholm",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Tehran",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
)


@dataclass
class CustomTopic:
    """One "your own topic" row, as typed."""

    label: str = ""
    keywords: str = ""
    description: str = ""  # what the topic covers, in the reader's own sentence or two

    @property
    def blank(self) -> bool:
        return not (self.label.strip() or self.keywords.strip() or self.description.strip())


@dataclass
class TopicsForm:
    """The fields shared by the subscribe form and the preferences form."""

    catalog_ids: list[str] = field(default_factory=list)
    custom: list[CustomTopic] = field(default_factory=list)
    frequency: str = Frequency.DAILY.value
    send_hour: str = "7"
    timezone: str = "UTC"
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def custom_rows(self, minimum: int = CUSTOM_ROWS) -> list[CustomTopic]:
        """The rows to show: what was typed, plus blanks so there is room for one more."""
        rows = [row for row in self.custom if not row.blank]
        wanted = min(max(minimum, len(rows) + 1), MAX_CUSTOM_ROWS)
        return rows + [CustomTopic() for _ in range(wanted - len(rows))]


@dataclass
class SubscribeForm(TopicsForm):
    email: str = ""
    honeypot: str = ""


@dataclass(frozen=True)
class Choices:
    """A valid form, turned into the values the store wants."""

    topics: tuple[TopicSpec, ...]
    frequency: Frequency
    send_hour: int
    timezone: str


def blank_subscribe_form(settings: Settings) -> SubscribeForm:
    return SubscribeForm(
        send_hour=str(settings.default_send_hour), timezone=settings.default_timezone
    )


def text(form: FormData, name: str) -> str:
    """A text field; a file upload in its place (multipart trickery) counts as empty.

    ``in`` first: ``Mapping.get`` finds a missing field by raising KeyError, and the sign-up
    form asks for ten custom-topic rows that are mostly absent (5% of a sign-up's CPU)."""
    value = form.get(name) if name in form else None
    return value if isinstance(value, str) else ""


def read_subscribe_form(form: FormData) -> SubscribeForm:
    result = SubscribeForm(email=text(form, "email"), honeypot=text(form, "website"))
    _read_topics(form, result)
    return result


def read_topics_form(form: FormData) -> TopicsForm:
    result = TopicsForm()
    _read_topics(form, result)
    return result


def _read_topics(form: FormData, into: TopicsForm) -> None:
    into.catalog_ids = [v for v in form.getlist("topic") if isinstance(v, str)][:100]
    into.custom = [
        CustomTopic(
            text(form, f"custom_label_{i}"),
            text(form, f"custom_keywords_{i}"),
            text(form, f"custom_description_{i}"),
        )
        for i in range(MAX_CUSTOM_ROWS)
    ]
    into.frequency = text(form, "frequency")
    into.send_hour = text(form, "send_hour")
    into.timezone = text(form, "timezone")


def check_email(form: SubscribeForm) -> str:
    """The normalized address, or '' with the reason recorded beside the field."""
    if len(form.email) > MAX_EMAIL:
        form.errors["email"] = f"An email address has at most {MAX_EMAIL} characters."
        return ""
    if not form.email.strip():
        form.errors["email"] = "Enter your email address, like name@example.org."
        return ""
    try:
        return normalize_email(form.email)
    except InvalidInput as exc:
        form.errors["email"] = _sentence(exc.reason)
        return ""


def check_topics(form: TopicsForm, catalog: Sequence[CatalogEntry]) -> Choices | None:
    """Validate everything but the email; None when some field has an error."""
    topics = _catalog_topics(form, catalog) + _custom_topics(form)
    if not topics and "topics" not in form.errors:
        form.errors["topics"] = "Choose at least one topic, or describe your own below."
    frequency = _frequency(form)
    hour = _hour(form)
    zone = _timezone(form)
    if form.errors or frequency is None or hour is None or zone is None:
        return None
    return Choices(tuple(_unique(topics)), frequency, hour, zone)


def _catalog_topics(form: TopicsForm, catalog: Sequence[CatalogEntry]) -> list[TopicSpec]:
    by_id = {entry.id: entry for entry in catalog}
    unknown = [i for i in form.catalog_ids if i not in by_id]
    if unknown:
        form.errors["topics"] = "One of the chosen topics no longer exists; please choose again."
        form.catalog_ids = [i for i in form.catalog_ids if i in by_id]
    return [by_id[i].spec for i in dict.fromkeys(form.catalog_ids) if i in by_id]


def _custom_topics(form: TopicsForm) -> list[TopicSpec]:
    specs: list[TopicSpec] = []
    for index, row in enumerate(form.custom):
        if row.blank:
            continue
        if len(row.label) > MAX_LABEL or len(row.keywords) > MAX_KEYWORDS:
            form.errors[f"custom_{index}"] = (
                f"Keep a label under {MAX_LABEL} characters and keywords under {MAX_KEYWORDS}."
            )
            continue
        if len(row.description) > MAX_DESCRIPTION:
            form.errors[f"custom_{index}"] = (
                f"Keep what you say about the topic under {MAX_DESCRIPTION} characters: "
                "a sentence or two."
            )
            continue
        if any(c in row.label + row.keywords for c in "\r\n\x00") or "\x00" in row.description:
            form.errors[f"custom_{index}"] = "A topic's name and keywords cannot hold line breaks."
            continue
        # A description may run over lines as typed; matching reads it as one paragraph.
        description = " ".join(row.description.split())
        try:
            specs.append(TopicSpec.build(row.label, row.keywords, description=description))
        except InvalidInput as exc:
            form.errors[f"custom_{index}"] = _sentence(exc.reason)
    return specs


def _frequency(form: TopicsForm) -> Frequency | None:
    try:
        return Frequency(form.frequency)
    except ValueError:
        form.errors["frequency"] = "Choose daily or weekly."
        return None


def _hour(form: TopicsForm) -> int | None:
    value = form.send_hour.strip()
    if value.isdigit() and len(value) <= 2 and 0 <= int(value) <= 23:
        return int(value)
    form.errors["send_hour"] = "Choose an hour between 00:00 and 23:00."
    return None


def _timezone(form: TopicsForm) -> str | None:
    value = form.timezone.strip()
    if 0 < len(value) <= MAX_SHORT and "\x00" not in value:
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError):
            pass
    form.errors["timezone"] = "Choose a time zone from the list."
    return None


def _unique(specs: Iterable[TopicSpec]) -> list[TopicSpec]:
    seen: dict[str, TopicSpec] = {}
    for spec in specs:
        seen.setdefault(spec.label.casefold(), spec)
    return list(seen.values())


def _sentence(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        return reason
    reason = reason[0].upper() + reason[1:]
    return reason if reason.endswith((".", "?", "!")) else reason + "."


def timezone_options(current: str) -> list[str]:
    """The select's options: the common zones, plus the current one if it is not among them."""
    return list(COMMON_TIMEZONES) if current in COMMON_TIMEZONES else [current, *COMMON_TIMEZONES]


def form_for(subscriber: Subscriber, catalog: Sequence[CatalogEntry]) -> TopicsForm:
    """A subscriber's stored choices as the preferences form shows them."""
    ids = catalog_label_ids(catalog)
    form = TopicsForm(
        frequency=subscriber.frequency.value,
        send_hour=str(subscriber.send_hour),
        timezone=subscriber.timezone,
    )
    for topic in subscriber.topics:
        known = ids.get(topic.label.casefold())
        if known is not None:
            form.catalog_ids.append(known)
        else:
            form.custom.append(
                CustomTopic(topic.label, ", ".join(topic.keywords), topic.description)
            )
    return form
