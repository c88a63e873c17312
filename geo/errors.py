"""Exceptions raised by the Common Ground engine.

Every exception says what was wrong and how to fix it, in one plain sentence that a page can show
with ``st.error`` and the command line can print to stderr. All subclass :class:`CommonGroundError`,
which subclasses :class:`ValueError`, so callers that only know about ``ValueError`` still catch them.

Every error class of the engine is defined here, in one place, grouped below by the module that
raises it; those modules re-export their own (``geo.editing.StatusError`` is this module's
``StatusError``), so callers may import from either.
"""

from __future__ import annotations

from typing import Any


class CommonGroundError(ValueError):
    """Base class of every error the engine raises on purpose."""


class StoreError(CommonGroundError):
    """The data store cannot be opened, read or written."""


class StoreNotFoundError(StoreError):
    """The GeoPackage named by ``--data`` or ``COMMON_GROUND_DATA`` does not exist."""


class LayerNotFoundError(StoreError):
    """A layer was asked for that the store does not hold."""


class StoreBusyError(StoreError):
    """Another writer held the store's lock for longer than the timeout."""


class StoreIntegrityError(StoreError):
    """The store failed a health check (for example a stale cached feature count)."""


class SchemaError(CommonGroundError):
    """A frame does not follow the data model in :mod:`geo.schema`."""


class TaxonomyError(CommonGroundError):
    """The taxonomy file is malformed, or a category or type is unknown."""


class CRSError(CommonGroundError):
    """A GeoDataFrame has no CRS, or one that cannot be used here."""


class PostcodeError(CommonGroundError):
    """Base class for postcode lookups that cannot be answered."""


class MalformedPostcodeError(PostcodeError):
    """The text is not shaped like a UK postcode."""


class PostcodeNotFoundError(PostcodeError):
    """The postcode is well formed but not in the shipped postcode table."""


class AreaNotFoundError(CommonGroundError):
    """No area in the boundary layer has the given name or id."""


class OutsideAreaError(CommonGroundError):
    """A point or postcode lies outside the area the data covers."""


class FeatureNotFoundError(StoreError):
    """No feature of the layer has the given id."""


class VersionConflictError(StoreError):
    """Someone else changed a feature after it was loaded: the stale edit was refused, nothing saved.

    Attributes
    ----------
    layer, feature_id
        The feature.
    expected, current
        The version the edit was made from, and the version in the store now.
    changed_by, changed_at, fields
        Who made the newer change(s), when (the latest) and which fields they changed.
    """

    def __init__(
        self,
        message: str,
        *,
        layer: str = "",
        feature_id: str = "",
        expected: int | None = None,
        current: int | None = None,
        changed_by: str = "",
        changed_at: str = "",
        fields: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.layer = layer
        self.feature_id = feature_id
        self.expected = expected
        self.current = current
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.fields = fields


class StoreSchemaError(StoreError):
    """The store was made by a newer Common Ground, or its schema cannot be migrated."""


class SettingsError(CommonGroundError):
    """An environment variable holds a value Common Ground cannot use."""


class AuthError(CommonGroundError):
    """Base class of sign-in and permission errors."""


class PermissionDeniedError(AuthError):
    """The signed-in person (or visitor) may not do this; nothing was changed.

    Attributes
    ----------
    action
        What was refused, in words (``"approve a contribution"``).
    role
        The role the person has (``"anonymous"``, ``"contributor"``, ...).
    """

    def __init__(self, message: str, *, action: str = "", role: str = ""):
        super().__init__(message)
        self.action = action
        self.role = role


class RolesConfigError(AuthError):
    """The roles file of a shared deployment is missing or malformed."""


# --- Validation (geo.validation: one validator per layer) -------------------------------------


class ValidationError(CommonGroundError):
    """A value cannot be stored; the message names the column, what is wrong and the fix.

    Attributes
    ----------
    field
        The column (or argument, e.g. ``"actor"``) at fault.
    value
        The value as given (``None`` when it was missing).
    """

    def __init__(self, message: str, *, field: str, value: Any = None):
        super().__init__(message)
        self.field = field
        self.value = value


class MissingValueError(ValidationError):
    """A required value is missing or empty."""


class InvalidValueError(ValidationError):
    """A value is malformed, too long, not one of the choices, or not allowed here."""


class PrivateDetailsError(InvalidValueError):
    """A column meant for a group holds what looks like a private email address or phone number."""


class UnknownTypeError(InvalidValueError, TaxonomyError):
    """An asset type is not in the taxonomy."""


class InvalidPostcodeError(InvalidValueError, MalformedPostcodeError):
    """The text is not shaped like a UK postcode."""


class CoordinatesError(InvalidValueError, OutsideAreaError):
    """A longitude/latitude is not a finite number, looks swapped, or lies outside the data's area."""


class UnknownReferenceError(ValidationError):
    """A link names an id that is not in the store."""


class UnknownAreaError(UnknownReferenceError, AreaNotFoundError):
    """The boundary layer or the area id is not known."""


# --- Editing assets (geo.editing) -------------------------------------------------------------


class EditError(CommonGroundError):
    """Base class of the errors about edits themselves (values are refused by :mod:`geo.validation`)."""


class AssetNotFoundError(EditError):
    """No asset has the given id."""


class StatusError(EditError):
    """The asset's status does not allow this change (e.g. approving an asset that is not pending)."""


class NoChangeError(EditError):
    """The requested update would leave the asset as it is; nothing was saved."""


class AuditEntryNotFoundError(EditError):
    """The history has no entry with the given number or key."""


class UndoError(EditError):
    """A change cannot be undone: not an asset edit made here, or the asset has changed since."""


# --- Moderating community knowledge (geo.community) -------------------------------------------


class ModerationError(CommonGroundError):
    """Base class of the refusals about moderating contributions (the values themselves are fine)."""


class ItemNotFoundError(ModerationError, FeatureNotFoundError):
    """No aspiration, story or measure value has the given id."""


class NotPendingError(ModerationError):
    """The item is not pending, so it cannot be approved, rejected or withdrawn (nothing changed)."""


class NotPublishedError(ModerationError):
    """The item is pending, rejected or withdrawn, so it cannot be used publicly (nothing changed)."""


# --- Imports (geo.io.imports) --------------------------------------------------------------------


class ImportFileError(CommonGroundError):
    """A file cannot be read or imported; the message says why and what to do."""


# --- Exports (geo.io.exports) --------------------------------------------------------------------


class ExportError(CommonGroundError):
    """An export cannot be made as asked (format, output path, or a filter that matched nothing)."""


# --- The area report (geo.io.report) -------------------------------------------------------------


class ReportError(CommonGroundError):
    """The area report cannot be written where it was asked for (the message names the fix)."""


# --- HSDS export (geo.io.hsds) -------------------------------------------------------------------


class HsdsExportError(CommonGroundError):
    """The HSDS document cannot be written where it was asked for."""


# --- The command line (geo.cli) ---------------------------------------------------------------


class FeatureArgumentError(CommonGroundError):
    """A command-line value for a feature edit is malformed."""
