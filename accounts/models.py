"""Users, their roles, and one-time phone codes."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.phones import mask_phone, normalize_phone


class Role(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    STAFF = "staff", _("Agency staff")
    MANAGER = "manager", _("Agency manager")
    DISPATCHER = "dispatcher", _("Dispatcher")
    ADMINISTRATOR = "administrator", _("Administrator")
    HOTLINE = "hotline", _("Hotline operator")


# Roles that work in the admin site, and those that belong to one agency.
ADMIN_ROLES = frozenset(
    {Role.STAFF, Role.MANAGER, Role.DISPATCHER, Role.ADMINISTRATOR, Role.HOTLINE}
)
AGENCY_ROLES = frozenset({Role.STAFF, Role.MANAGER})
CITYWIDE_ROLES = frozenset({Role.DISPATCHER, Role.ADMINISTRATOR})


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, phone: str, password: str | None, **fields: Any) -> User:
        user = self.model(phone=normalize_phone(phone), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"], validate_unique=False)
        user.save(using=self._db)
        return user

    def create_user(self, phone: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("role", Role.CITIZEN)
        return self._create(phone, password, **fields)

    def create_superuser(self, phone: str, password: str | None = None, **fields: Any) -> User:
        fields.update(
            role=Role.ADMINISTRATOR,
            is_staff=True,
            is_superuser=True,
            phone_verified_at=timezone.now(),
        )
        return self._create(phone, password, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(phone=normalize_phone(username or ""))


class User(AbstractBaseUser, PermissionsMixin):
    phone = models.CharField(
        _("phone number"), max_length=20, unique=True, help_text=_("Stored in E.164 form.")
    )
    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.CITIZEN)
    agency = models.ForeignKey(
        "reports.Agency",
        verbose_name=_("agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    home_area = models.ForeignKey(
        "reports.Area",
        verbose_name=_("home area"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # What the user is written to in: notifications, alerts and texted codes.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("admin site access"),
        default=False,
        help_text=_("Set from the role: staff, managers, dispatchers and administrators."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    deleted_at = models.DateTimeField(
        _("deleted at"),
        null=True,
        blank=True,
        help_text=_("The user deleted their account: deactivated and anonymised."),
    )
    # Moved on by a password reset, "log out everywhere" and deletion: every token made
    # before it stops working at once (accounts.tokens).
    token_generation = models.PositiveIntegerField(_("token generation"), default=0)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(agency__isnull=False) | ~Q(role__in=["staff", "manager"]),
                name="user_agency_roles_have_agency",
                violation_error_message=_("Staff and managers belong to an agency."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.phone})" if self.full_name else self.phone

    @property
    def is_verified(self) -> bool:
        return self.phone_verified_at is not None

    @property
    def is_citywide(self) -> bool:
        """Dispatchers and administrators see every report."""
        return self.is_superuser or self.role in CITYWIDE_ROLES

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[-1] if self.full_name else self.phone


class Device(models.Model):
    """A phone's push token (FCM), registered by the app."""

    class Platform(models.TextChoices):
        ANDROID = "android", "Android"
        IOS = "ios", "iOS"
        WEB = "web", "Web"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    token = models.CharField(_("push token"), max_length=512, unique=True)
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return f"{self.platform}:{self.token[:12]}…"


class PhoneCode(models.Model):
    """A one-time code sent by SMS. Neither the code nor a hash of it is stored: the code is
    derived from the row's id and its random `nonce` under the server's secret (accounts.codes),
    so the worker that texts it and the check that reads it compute it again, and the broker,
    the logs and the database never hold it. The nonce is cleared once the code is used or
    replaced: nothing can derive it afterwards."""

    class Purpose(models.TextChoices):
        VERIFY = "verify", _("Phone verification")
        RESET = "reset", _("Password reset")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_codes")
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    nonce = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # Wrong codes from every client together; and per client (a hash of its address):
    # {"<client>": {"wrong": n, "at": "<ISO time of the last wrong one>"}}.
    attempts = models.PositiveSmallIntegerField(default=0)
    attempts_by_client = models.JSONField(default=dict, blank=True)
    # The client (a hash of its address) that asked for the code: its own tries do not run
    # out when other clients have spent the code's wrong tries.
    requested_by = models.CharField(max_length=32, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("phone code")
        verbose_name_plural = _("phone codes")
        indexes = [models.Index(fields=["user", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.purpose}"


class TextMessage(models.Model):
    """One text message: the outbox row a task sends by its id, and what became of it (the
    gateway's answer, then its delivery report). A code's text is not stored: the worker
    derives it from the phone code (accounts.codes)."""

    class Kind(models.TextChoices):
        VERIFICATION = "verification", _("Phone verification code")
        RESET = "reset", _("Password reset code")
        NOTICE = "notice", _("Account notice")
        NOTIFICATION = "notification", _("Notification")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")  # the gateway took it
        DELIVERED = "delivered", _("Delivered")  # the delivery report says so
        FAILED = "failed", _("Failed")  # refused for good, by the gateway or the carrier
        EXPIRED = "expired", _("Expired")  # not sent in time: the gateway stayed away
        SKIPPED = "skipped", _("Skipped")  # nothing to send (no such account, code replaced)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="queued")
    # E.164 while it may be sent; masked once its user deleted their account.
    phone = models.CharField(_("phone number"), max_length=20)
    user = models.ForeignKey(
        User, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL
    )
    phone_code = models.OneToOneField(
        PhoneCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="text_message"
    )
    # The text of notices and notifications; never a code.
    body = models.TextField(_("text"), blank=True)
    # The client (a hash of its address) whose request caused the text.
    client = models.CharField(max_length=32, blank=True, editable=False)
    # A caller's key for one text (e.g. "notification:42"): asked again, the same row answers.
    key = models.CharField(max_length=64, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    gateway_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    delivery_status = models.CharField(_("delivery report"), max_length=20, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Not worth sending after this: a code's end of life.
    expires_at = models.DateTimeField(_("expires at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # While a worker hands the text to the gateway: no other may until then.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    reported_at = models.DateTimeField(_("delivery reported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        indexes = [
            models.Index(fields=["created_at"], name="textmessage_created"),
            models.Index(fields=["phone", "kind", "-created_at"], name="textmessage_phone_kind"),
            models.Index(
                fields=["created_at"],
                condition=Q(state="queued"),
                name="textmessage_queued",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="textmessage_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.masked_phone}: {self.state}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone.startswith("+") else self.phone
