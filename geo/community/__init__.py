"""Community knowledge (the ``geo.community`` package): aspirations, agreed success measures, organisations and stories of success.

The *Resilient Communities* framework starts from what a community wants for its area (its
**aspirations**, raised by a group), agrees with partners what **success** looks like (measures with
a baseline, a target and a history of values), **joins up** the organisations already working in the
same place (who overlaps, what nobody covers), and builds **stories of success** as an evidence base.

Every create and update here is one :meth:`geo.store.Store.transaction` with an explicit ``actor``
and an audit entry per change: it lands whole or not at all, and invalid input is rejected before
the store is touched. Knowledge is linked to one area of a boundary layer (``boundary_layer`` and
``area_id``). Themes are comma-separated text in the store; they are stored trimmed and in lower
case, and matched ignoring case and spacing.

Validation
    Every record follows the one validator of its layer, :func:`geo.validation.validate_record`
    (``aspirations``, ``success_measures``, ``measure_updates``, ``organisations``,
    ``organisation_areas``, ``stories``), with the store's :func:`~geo.store.validation_context`,
    and the actor :func:`geo.validation.require_actor`: pages and imports refuse the same values
    with the same sentence. The errors are those of :mod:`geo.validation`;
    :class:`KnowledgeValidationError` is their base, :class:`geo.validation.ValidationError`.

Who may write (enforced here, not only by the pages)
    Every function that writes takes ``actor``: a :class:`geo.auth.Principal`, or a plain name (a
    trusted local caller: the command line, a script, local mode, which is an admin; see
    :func:`geo.auth.as_principal`). It calls :func:`geo.auth.require` before anything else, so a
    refused caller gets :class:`~geo.errors.PermissionDeniedError` and nothing is written. Adding an
    aspiration or a story and recording a measure value need ``contribute``; agreeing a success
    measure and adding or changing organisations need ``edit``. The store records
    :attr:`Principal.actor <geo.auth.Principal.actor>` (``"Name <sub>"``) as ``created_by`` and in
    the audit log.

Moderation
    A contributor's aspiration, story or measure value (anyone below editor) lands as ``pending``:
    hidden from every public read, and a pending measure value does not change the measure's
    ``current``. An editor approves it (:func:`approve_item`: aspirations become ``open``, stories
    and values ``published``, and an approved value is applied to ``current``) or rejects it with a
    reason (:func:`reject_item`), never their own; the contributor may withdraw it while it is
    pending (:func:`withdraw_item`). Editors' and admins' own records are live at once.
    :func:`pending_items` is the moderation queue, :func:`my_contributions` a person's own items.
    Statuses in :data:`geo.schema.HIDDEN_STATUSES` are never shown publicly: the public reads here
    (:func:`for_area`, :func:`measure_progress`, :func:`join_up`, :func:`search_stories`,
    :func:`story_report`) leave them out (:func:`visible`); an empty status counts as published
    (``open`` for an aspiration).

The package has one module per job: :mod:`~geo.community.aspirations` (aspirations and success
measures), :mod:`~geo.community.organisations` (organisations, where they work, join-up),
:mod:`~geo.community.stories` (stories of success), :mod:`~geo.community.moderation` (pending
contributions), with what they share in ``_common``. Callers use the package itself
(``from geo import community``): every public name is here.
"""

from __future__ import annotations

from geo.community._common import (  # noqa: F401
    ASPIRATION_STATUSES,
    ENTERED_SOURCE,
    LIVE_ASPIRATION_STATUSES,
    LIVE_STATUS,
    MODERATED_LAYERS,
    Actor,
    KnowledgeValidationError,
    for_area,
    is_hidden,
    join_themes,
    split_ids,
    split_themes,
    visible,
)
from geo.community.aspirations import (  # noqa: F401
    add_aspiration,
    add_success_measure,
    aspirations_table,
    measure_progress,
    measures_for,
    record_measure_value,
)
from geo.community.moderation import (  # noqa: F401
    CONTRIBUTION_COLUMNS,
    QUEUE_COLUMNS,
    approve_item,
    my_contributions,
    pending_items,
    reject_item,
    withdraw_item,
)
from geo.community.organisations import (  # noqa: F401
    Footprint,
    JoinUp,
    add_organisation,
    join_up,
    organisation_choices,
    organisation_footprint,
    organisation_matrix,
    set_organisation_areas,
    update_organisation,
)
from geo.community.stories import (  # noqa: F401
    add_story,
    search_stories,
    story_report,
)
from geo.errors import (  # noqa: F401 (the errors callers catch)
    CommonGroundError,
    FeatureNotFoundError,
    ItemNotFoundError,
    ModerationError,
    NotPendingError,
    NotPublishedError,
    PermissionDeniedError,
    PrivateDetailsError,
    UnknownAreaError,
    UnknownReferenceError,
)
from geo.validation import (  # noqa: F401
    private_details_in,
)
