# The interface in English. Every id here must exist in ru/main.ftl and kk/main.ftl too
# (checked by a test).

app-name = qoima
skip-to-content = Skip to content
nav-label = Main menu
nav-archive = Archive
lang-switch-label = Language
lang-name-kk = Қазақша
lang-name-ru = Русский
lang-name-en = English
lock-button = Lock
lock-hint = The node forgets the key and stops

archive-title = Archive
archive-search-label = Search
archive-kind-label = Kind
archive-kind-all = All kinds
archive-place-label = Place
archive-only-author = Only records signed by { $author }.
archive-all-authors = Show every author
archive-by-author = Only this author's records
archive-since-label = Written since
archive-bad-since = The date in the address is not understood; records of every date are shown.
archive-apply = Show
archive-count = { $count ->
    [one] { $count } record
   *[other] { $count } records
}
archive-on-page = On this page: { archive-count }
archive-not-yet-searchable = { archive-count } of this archive { $count ->
    [one] is
   *[other] are
} not searchable yet, and may be missing here: the node is making them searchable (after an update, or a large import). Search again in a few minutes.
archive-empty = No records here.
archive-bad-kind = The kind in the address is not known; all kinds are shown.
archive-bad-page = There is no such page; the first page is shown.
archive-bad-author = That author is not known in this archive; all authors are shown.
pages-label = Pages
page-newer = ← Newer
page-older = Older →

record-kind = Kind
record-created = Written (as its author claims)
record-occurred = Happened
record-place = Place
record-coordinates = Coordinates
record-coordinates-value = { $lat }, { $lon }
record-coordinates-within = { $lat }, { $lon }, within { $radius } m
record-tags = Tags
record-author = Author
record-seq = no. { $count }
record-trust = Trust
record-id = Record id
record-suspect-short = suspect
record-suspect = SUSPECT: its key was revoked before this record claims to be written and before this archive first saw it; whoever holds the key now may have made it.
record-sealed-readable = { $count ->
    [one] A part of this record is sealed to its one recipient, you; it is shown below.
   *[other] A part of this record is sealed to { $count } recipients, you among them; it is shown below.
}
record-sealed-damaged = { $count ->
    [one] A part of this record is sealed to its one recipient, you, but it could not be opened: the sealed part is damaged.
   *[other] A part of this record is sealed to { $count } recipients, you among them, but it could not be opened: the sealed part is damaged.
}
record-sealed-heading = Sealed part
record-sealed-who = Only the recipients read this part. Every other archive that holds the record sees only what is above it.
record-sealed-title = Title
record-sealed-attachments = The attachments are stored encrypted; what they really are:
record-sealed-attachment = { $number }. { $name } · { $type } · { $size }
record-sealed-unreadable = { $count ->
    [one] A part of this record is sealed to { $count } recipient; it cannot be read here.
   *[other] A part of this record is sealed to { $count } recipients; it cannot be read here.
}
record-signature-heading = Signature
record-signed-by = Signature valid: key { $fingerprint } vouched for exactly these bytes.
record-signature-meaning = A signature shows who vouched for a record, not that what it says is true.
record-attachments = Attachments
record-no-attachments = No attachments.
size-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
attachment-present = here
attachment-partial = partly here: { $percent }%
attachment-missing = not here yet: `qoima fetch` asks peers for it
attachment-preview-alt = Preview of the attached image
record-custody = Chain of custody
custody-local = { $when }: written on this device
custody-file = { $when }: from the file { $origin }
custody-peer = { $when }: from the peer { $origin }

time-utc = { $date } { $time } UTC
time-span = { $start } to { $end }

trust-own = you ({ $persona })
trust-trusted = trusted: { $name }
trust-endorsed = vouched for as { $name } by { $by } ({ $hops ->
    [one] { $hops } step
   *[other] { $hops } steps
})
trust-revoked = key revoked since { $since }
trust-unknown = unknown key

kind-testimony = Testimony
kind-incident = Incident
kind-detention = Detention
kind-evidence = Evidence
kind-correction = Correction
kind-retraction = Retraction
kind-key-endorsement = Key endorsement
kind-key-revocation = Key revocation
kind-encryption-key = Encryption key

refused-host-title = This address is refused
refused-host-text = The interface opens only as 127.0.0.1 or localhost. Run `qoima ui` to open it.
refused-origin-title = Request refused
refused-origin-text = This action can only be sent from a page of this interface.
refused-token-title = Run `qoima ui` first
refused-token-text = To open this page, run `qoima ui`: it opens the browser at the right address.
refused-code-title = This link has already been used
refused-code-text = An opening link works once, for one minute. Run `qoima ui` again to get a new one.
error-title = Error
error-internal = The page could not be shown.
error-archive = The archive could not be read. See the node's log.
not-found-title = Not found
not-found-record = There is no such record in this archive (or its author retracted it).
not-found-page = There is no such page.
locked-title = Locked
locked-text = The node forgets the key and stops. To open the archive again, start the node and enter the passphrase.
lock-unavailable-title = Locking is not available here
lock-unavailable-text = This interface runs without a node; run `qoima lock` to lock.
lock-failed-title = The node was not locked
lock-failed-text = The node did not take the request. Run `qoima lock` in a terminal, or stop the node (Ctrl-C in its window).
