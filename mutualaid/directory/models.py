from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone as dj_timezone
from django.utils.text import slugify
from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext_lazy as _

from mutualaid.lib import schedule, vocabulary


class Approach(models.TextChoices):
    TWELVE_STEP = "twelve_step", _("Twelve-step")
    SECULAR = "secular", _("Secular / skills-based")
    FAMILY = "family", _("Family and friends")


class Fellowship(models.Model):
    code = models.CharField(max_length=40, unique=True, help_text="Short code, e.g. AA, NA, SMART")
    name = models.CharField(max_length=120, unique=True)
    approach = models.CharField(max_length=20, choices=Approach.choices)
    audience = models.CharField(max_length=300, help_text="Who it is for, in plain words")
    covers = models.CharField(
        max_length=200,
        help_text="Comma-separated: alcohol, drugs, cocaine, crystal_meth, cannabis, gambling, "
        "eating, sex_love, other_behaviours, affected_others",
    )
    description = models.TextField(blank=True)
    website = models.URLField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name in the interface's language (fellowships.py marks the known ones)."""
        return gettext(self.name)

    @property
    def display_audience(self) -> str:
        return gettext(self.audience)

    @property
    def covers_list(self) -> list[str]:
        return [c.strip() for c in self.covers.split(",") if c.strip()]


class SourceFormat(models.TextChoices):
    MEETING_GUIDE = "meeting-guide", "Meeting Guide JSON"
    BMLT = "bmlt", "BMLT GetSearchResults JSON"
    TSML_CSV = "tsml-csv", "TSML CSV/TSV"
    MANUAL = "manual", "Entered by hand"
    DEMO = "demo", "Demo data"


class Source(models.Model):
    """One feed of meetings: a URL or a file, in one format."""

    name = models.CharField(max_length=120, unique=True)
    format = models.CharField(max_length=20, choices=SourceFormat.choices)
    location = models.CharField(max_length=500, blank=True, help_text="URL or file path")
    default_timezone = models.CharField(max_length=64, blank=True)
    fellowship = models.ForeignKey(Fellowship, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    last_imported_at = models.DateTimeField(null=True, blank=True)
    # HTTP validators of the last response applied from the URL, sent back as
    # If-None-Match / If-Modified-Since so an unchanged feed answers 304 and costs nothing.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    NOT_MODIFIED = "not_modified", "Not modified (HTTP 304): nothing to do"
    REFUSED = "refused", "Refused: empty feed or mass removal"
    FAILED = "failed", "Failed: feed not fetched or not readable"


class ImportRun(models.Model):
    """One import of a source: what it changed and which rows it rejected."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=12, choices=ImportStatus.choices, default=ImportStatus.APPLIED
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} at {self.started_at:%Y-%m-%d %H:%M}"


class Mode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    ONLINE = "online", "Online"
    HYBRID = "hybrid", "Hybrid"
    INACTIVE = "inactive", "Temporarily closed"


class Frequency(models.TextChoices):
    WEEKLY = schedule.WEEKLY, "Weekly"
    FORTNIGHTLY = schedule.FORTNIGHTLY, "Fortnightly"
    MONTHLY = schedule.MONTHLY, "Monthly (nth weekday)"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    RESTRICTED = "restricted", "Restricted to one organisation"


class Status(models.TextChoices):
    ACTIVE = "active", "Listed"
    REMOVED = "removed", "Removed from its feed"


def _pack(tokens) -> str:
    """Token lists are stored as ',a,b,' so that '%,a,%' matches whole tokens on any database."""
    unique = sorted({t for t in tokens if t})
    return f",{','.join(unique)}," if unique else ""


def _unpack(packed: str) -> list[str]:
    return [t for t in packed.split(",") if t]


class MeetingQuerySet(models.QuerySet):
    def listed(self):
        """In the directory: not removed from its feed, not a duplicate of another listing."""
        return self.filter(status=Status.ACTIVE, duplicate_of__isnull=True)

    def visible_to(self, organisation_ids=()):
        """Public meetings, plus restricted ones of the viewer's own organisations."""
        visible = models.Q(visibility=Visibility.PUBLIC)
        if organisation_ids:
            visible |= models.Q(
                visibility=Visibility.RESTRICTED, organisation_id__in=list(organisation_ids)
            )
        return self.filter(visible)


class Meeting(models.Model):
    fellowship = models.ForeignKey(Fellowship, on_delete=models.PROTECT, related_name="meetings")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    group_name = models.CharField(max_length=200, blank=True)

    # Schedule: local wall-clock time in an IANA zone. weekday: 0 = Monday (Python).
    # A null weekday means "by appointment": listed, never in day or upcoming searches.
    weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    start_time = models.TimeField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(default=60)
    timezone = models.CharField(max_length=64)
    frequency = models.CharField(max_length=12, choices=Frequency.choices, default=Frequency.WEEKLY)
    month_week = models.SmallIntegerField(
        null=True, blank=True, help_text="Monthly: 1-5, or -1 for last"
    )
    series_anchor = models.DateField(
        null=True, blank=True, help_text="Fortnightly: a date it is held"
    )
    # Derived from weekday + start_time on save, for indexed range filters and ordering.
    start_minute = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    week_minute = models.PositiveIntegerField(null=True, blank=True, editable=False)

    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.IN_PERSON)

    location_name = models.CharField(max_length=200, blank=True)
    street_address = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=120, blank=True)
    region = models.CharField(max_length=120, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=80, blank=True)
    formatted_address = models.CharField(max_length=400, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    approximate = models.BooleanField(default=False, help_text="Location is only approximate")
    location_notes = models.TextField(blank=True)

    conference_url = models.URLField(max_length=500, blank=True)
    conference_url_notes = models.TextField(blank=True)
    conference_phone = models.CharField(max_length=100, blank=True)
    conference_phone_notes = models.TextField(blank=True)

    type_codes = models.CharField(
        max_length=600, blank=True, help_text="Canonical type keys, packed"
    )
    language_codes = models.CharField(
        max_length=120, blank=True, help_text="ISO 639-1 codes, packed"
    )
    notes = models.TextField(blank=True)

    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="meetings"
    )
    source_ref = models.CharField(
        max_length=200, blank=True, help_text="The meeting's id in its source"
    )
    feed_updated_at = models.DateTimeField(null=True, blank=True)
    last_verified_at = models.DateTimeField(null=True, blank=True)
    # Who last vouched for the listing by hand (the admin's "mark verified").
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    visibility = models.CharField(
        max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The same meeting listed by another feed: shown once in search, both sources kept.
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # Optimistic concurrency (docs/reliability.md): every edit (admin, import, service)
    # adds one; an edit based on an older version is refused instead of overwriting.
    version = models.PositiveIntegerField(default=1)
    # Set only by the importer: a digest of the feed row this meeting came from (and of
    # what parsed it). A re-import skips parsing rows whose digest it finds here
    # (importing.known_rows). Any other save() clears it, so a hand edit is compared in
    # full next time and the feed's values come back (docs/performance.md, feeds).
    content_hash = models.CharField(max_length=40, blank=True, editable=False)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["weekday", "start_time", "name"]
        indexes = [
            # Measured in bench/search.py (docs/performance.md). Near a point: the day +
            # bounding-box range, then every other column a near search filters on or reads,
            # so the database never reads the row of a meeting that does not match (on
            # SQLite a row read costs more than all the rest of the work on that meeting;
            # PostgreSQL needs the id in it too for an index-only scan).
            models.Index(
                fields=["weekday", "latitude", "longitude", "start_minute", "mode", "type_codes"]
                + ["week_minute", "timezone", "status", "visibility", "duplicate_of", "id"],
                name="meeting_day_geo_cover",
            ),
            # Online meetings (no place) join near searches: by mode, day and start minute.
            models.Index(
                fields=["mode", "weekday", "start_minute", "type_codes", "week_minute"]
                + ["timezone", "status", "visibility", "duplicate_of", "id"],
                name="meeting_online_day_cover",
            ),
            models.Index(fields=["week_minute"], name="meeting_week_minute"),
            # The meeting page's "also listed by" (meeting.duplicates): almost every row has
            # no duplicate_of, so with statistics SQLite judged the plain foreign-key index
            # unselective and scanned a covering index instead (~30 ms at 250k). Only the
            # rows that are duplicates, so it is small and always chosen.
            models.Index(
                fields=["duplicate_of"],
                condition=models.Q(duplicate_of__isnull=False),
                name="meeting_duplicates",
            ),
            models.Index(fields=["source", "source_ref"], name="meeting_source_ref"),
            # Place names and postcodes of listed meetings resolve searches (places.py).
            models.Index(Upper("city"), name="meeting_city_upper"),
            models.Index(Upper("postcode"), name="meeting_postcode_upper"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6) | models.Q(weekday__isnull=True),
                name="meeting_weekday_0_6",
            ),
            models.CheckConstraint(
                condition=models.Q(visibility="public") | models.Q(organisation__isnull=False),
                name="meeting_restricted_has_organisation",
            ),
            models.UniqueConstraint(
                fields=["source", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="meeting_unique_source_ref",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("directory:meeting", kwargs={"slug": self.slug})

    # --- derived values -------------------------------------------------------------

    def clean(self):
        errors = {}
        try:
            schedule.zone(self.timezone)
        except ValueError as exc:
            errors["timezone"] = str(exc)
        if (self.weekday is None) != (self.start_time is None):
            errors["start_time"] = "a meeting needs both a day and a start time, or neither"
        if self.latitude is not None or self.longitude is not None:
            if self.latitude is None or self.longitude is None:
                errors["latitude"] = "give both latitude and longitude, or neither"
            elif not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
                errors["latitude"] = "coordinates out of range"
        try:
            self.recurrence  # noqa: B018 - validates frequency/month_week/series_anchor
        except ValueError as exc:
            errors["frequency"] = str(exc)
        if self.visibility == Visibility.RESTRICTED and not self.organisation_id:
            errors["organisation"] = "a restricted meeting belongs to one organisation"
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        self.refresh_derived()
        if not self.slug:
            self.slug = self.unique_slug(self.name)
        self.content_hash = ""  # no longer what the feed row made: see content_hash
        if kwargs.get("update_fields"):  # an empty list saves nothing: leave it so
            kwargs["update_fields"] = {*kwargs["update_fields"], "content_hash"}
        super().save(*args, **kwargs)

    def refresh_derived(self) -> None:
        if self.weekday is not None and self.start_time is not None:
            self.start_minute = self.start_time.hour * 60 + self.start_time.minute
            self.week_minute = schedule.minute_of_week(self.weekday, self.start_time)
        else:
            self.start_minute = self.week_minute = None

    @classmethod
    def unique_slug(cls, text: str, *, exclude_pk=None) -> str:
        base = slugify(text)[:200] or "meeting"
        slug, n = base, 1
        taken = cls.objects.filter(slug__startswith=base)
        if exclude_pk:
            taken = taken.exclude(pk=exclude_pk)
        existing = set(taken.values_list("slug", flat=True))
        while slug in existing:
            n += 1
            slug = f"{base}-{n}"
        return slug

    @property
    def types(self) -> list[str]:
        return _unpack(self.type_codes)

    @types.setter
    def types(self, keys) -> None:
        self.type_codes = _pack(keys)

    @property
    def languages(self) -> list[str]:
        return _unpack(self.language_codes)

    @languages.setter
    def languages(self, codes) -> None:
        self.language_codes = _pack(codes)

    @property
    def type_labels(self) -> list[str]:
        known = vocabulary.meeting_types()
        language = get_language()
        return [known[k].label_for(language) for k in self.types if k in known]

    @property
    def meeting_guide_types(self) -> list[str]:
        return vocabulary.to_meeting_guide_codes(self.types, self.languages)

    @property
    def zoneinfo(self) -> ZoneInfo:
        return schedule.zone(self.timezone)

    @property
    def recurrence(self) -> schedule.Recurrence:
        return schedule.Recurrence(self.frequency, nth=self.month_week, anchor=self.series_anchor)

    @property
    def end_time(self) -> time | None:
        if self.start_time is None:
            return None
        end = datetime.combine(datetime(2000, 1, 1), self.start_time) + timedelta(
            minutes=self.duration_minutes
        )
        return end.time()

    @property
    def weekday_name(self) -> str:
        return schedule.DAY_NAMES[self.weekday] if self.weekday is not None else ""

    @property
    def schedule_text(self) -> str:
        if self.weekday is None:
            return gettext("By appointment")
        described = describe_recurrence(self.recurrence, self.weekday)
        return f"{described[0].upper()}{described[1:]}, {self.start_time:%H:%M}"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def address(self) -> str:
        if self.formatted_address:
            return self.formatted_address
        return ", ".join(p for p in [self.street_address, self.city, self.postcode] if p)

    @property
    def last_checked_at(self) -> datetime | None:
        """When anyone last vouched for this listing: verified by hand, or updated in its feed."""
        stamps = [t for t in (self.last_verified_at, self.feed_updated_at) if t]
        return max(stamps) if stamps else None

    def is_stale(self, now: datetime) -> bool:
        """Not verified or updated for settings.STALE_AFTER_MONTHS (unknown counts as stale)."""
        from django.conf import settings

        checked = self.last_checked_at
        return checked is None or now - checked > timedelta(
            days=30.44 * settings.STALE_AFTER_MONTHS
        )

    def next_start(self, now: datetime) -> datetime | None:
        if self.weekday is None or self.start_time is None:
            return None
        return schedule.next_occurrence(
            weekday=self.weekday,
            start=self.start_time,
            tz=self.zoneinfo,
            now=now,
            recurrence=self.recurrence,
        )


class ChangeRequestKind(models.TextChoices):
    WRONG_TIME = "wrong_time", _("Wrong time or day")
    WRONG_PLACE = "wrong_place", _("Wrong place")
    CLOSED = "closed", _("Meeting closed or no longer meets")
    ONLINE_LINK = "online_link", _("Online link broken")
    OTHER = "other", _("Something else")


class ChangeRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


class ChangeRequest(models.Model):
    """A problem with a listing reported by anyone (no account), reviewed by an editor.

    Filed and reviewed only through mutualaid.directory.change_requests. The reporter's
    address is never stored: client_hash is a keyed hash of it with a salt that changes
    daily, enough to tell one day's reports from the same address apart from others.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="change_requests")
    kind = models.CharField(max_length=20, choices=ChangeRequestKind.choices)
    details = models.TextField(max_length=2000, blank=True)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=dj_timezone.now, editable=False)
    status = models.CharField(
        max_length=10, choices=ChangeRequestStatus.choices, default=ChangeRequestStatus.OPEN
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_change_requests",
    )
    review_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    client_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="changerequest_status_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.meeting}"


class DirectoryGeneration(models.Model):
    """One row whose counter moves on every change to what the public directory shows.

    Cached searches and the rendered feeds are keyed on it (mutualaid/directory/cache.py),
    so one indexed read tells every web worker, on every machine, whether its copy is
    current, even when the change came from `mutualaid import` in another process.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(default=dj_timezone.now)

    def __str__(self) -> str:
        return f"directory generation {self.value}"


# The weekday names as Django's own catalogue translates them (django.utils.dates).
DAY_LABELS = [
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
]


def describe_recurrence(recurrence: schedule.Recurrence, weekday: int) -> str:
    """schedule.Recurrence.describe in the interface's language: "every Monday", "every
    other Monday", "second Monday of the month"."""
    day = str(DAY_LABELS[weekday])
    if recurrence.frequency == schedule.WEEKLY:
        return gettext("every %(day)s") % {"day": day}
    if recurrence.frequency == schedule.FORTNIGHTLY:
        return gettext("every other %(day)s") % {"day": day}
    ordinals = {
        1: pgettext("nth weekday of the month", "first %(day)s of the month"),
        2: pgettext("nth weekday of the month", "second %(day)s of the month"),
        3: pgettext("nth weekday of the month", "third %(day)s of the month"),
        4: pgettext("nth weekday of the month", "fourth %(day)s of the month"),
        5: pgettext("nth weekday of the month", "fifth %(day)s of the month"),
        -1: pgettext("nth weekday of the month", "last %(day)s of the month"),
    }
    return ordinals[recurrence.nth] % {"day": day}
