# Writing a record (`/write`). Every id here must exist in ru/write.ftl and kk/write.ftl
# too (checked by a test).

nav-write = Write
write-title = Write a record
write-choose-intro = What do you want to write down? Choose the kind of record.
write-about-testimony = what a witness saw, heard or lived through, in their words
write-about-incident = an event: a detention, a beating, a dispersal, censorship…
write-about-detention = a person who was detained or has disappeared, and where they are held
write-about-evidence = a photo, video or document, and what it shows
write-other-kind = Choose another kind of record
write-required = (required)
write-not-said = — not said —

write-field-kind = Kind of record
write-field-title = Title
write-field-text = What happened
write-field-occurred-at = When it happened
write-hint-occurred-at = A date (2022-01-05), a date and time (2022-01-05T14:30+06:00) or two dates (2022-01-05/2022-01-07). Write only as precisely as you know.
write-field-place = Where
write-field-witness = Witness (a code name, never the real name)
write-hint-pseudonym = Only a code name or a number that you can match to the person elsewhere. A real name here can endanger them.
write-field-relation = How the witness knows
write-relation-victim = it happened to them
write-relation-eyewitness = they saw it
write-relation-relative = a relative of the person it happened to
write-relation-hearsay = they were told
write-relation-other = other
write-field-incident-type = What happened
write-incident-detention = detention or arrest
write-incident-use-of-force = beating or other force
write-incident-shooting = shooting
write-incident-torture = torture
write-incident-disappearance = disappearance
write-incident-dispersal = dispersal of a gathering
write-incident-censorship = censorship
write-incident-property-damage = damage to property
write-incident-other = other
write-field-person = The person (a code name, never the real name)
write-field-facility = Where they are held
write-field-authority = Which authority holds them
write-field-tags = Tags
write-hint-tags = Words to find the record by, separated by commas.
write-field-lang = Language of the text
write-field-consent = Consent of the person who gave this account
write-consent-intro = Tick only what they agreed to. Without consent to share, the record stays in this archive: it is never offered to your peers, nor exported unless asked for.
write-consent-share = They agree that it is shared with documenting organisations (it will be offered to your peers)
write-consent-publish = They agree that it is published
write-consent-court = They agree that it is used in court
write-field-persona = Sign as
write-hint-persona = The persona whose key signs the record. Peers see the key, not its name here.
write-field-attachments = Attachments
write-metadata-removed = Photos (JPEG, PNG, HEIC) and videos (MP4, MOV) lose their hidden data before they are stored: the place where they were taken, the camera or phone, the time. The file name is not kept either. The file on your device is not changed.
write-metadata-unknown = Other formats (WebP, GIF, TIFF, RAW, MKV, MP3 and others) cannot be cleaned: they are stored as they are and may reveal where, when and with what they were made. If that could endanger someone, do not attach them.
write-metadata-damaged = A damaged photo or video is refused, and nothing is stored: its hidden data cannot be removed safely.
write-choose-files = Files to attach
write-attachments-limits = { $files ->
    [one] At most { $files } file
   *[other] At most { $files } files
}, each at most { $each } MB, the whole form at most { $total } MB. Larger files can be attached with `qoima add --attach` in a terminal.
write-signing = The record is signed with your key when you press the button. Once signed, it cannot be changed; a mistake is put right with a correction.
write-submit = Sign and store

write-problems-heading = The record was not stored
write-problems-kept = What you typed is still in the form below.
write-choose-files-again = Files cannot be kept by the browser: choose them again.
write-error-title = The record was not stored
write-error-kind = This kind of record cannot be written here. Choose one on the “Write” page.
write-error-unreadable = The form did not arrive whole. Try again.
write-error-stored = The archive could not store the record; nothing was stored. Check that the disk has free space, then try again.
write-error-damaged = Attachment { $number } is damaged: its hidden data cannot be removed safely, so nothing was stored. Remove it from the form, or store it as it is with `qoima add --keep-metadata` in a terminal.
write-error-draft = The record cannot be written: { $reason }
write-error-missing = “{ $field }” is required.
write-error-too-long = “{ $field }” is too long: at most { $max } bytes (a Latin letter takes 1 byte, a Cyrillic letter 2). Shorten it.
write-error-too-many-tags = { $count ->
    [one] “Tags”: at most { $count } tag.
   *[other] “Tags”: at most { $count } tags.
}
write-error-date = “When it happened” is not understood. Write a date such as 2022-01-05, or leave it empty.
write-error-choice = “{ $field }”: choose one of the options offered.
write-error-not-text = “{ $field }” is not text the archive can read.
write-error-file-too-large = Attachment { $number } is larger than { $max } MB. Nothing was stored.
write-error-too-many-files = { $count ->
    [one] At most { $count } attachment per record. Nothing was stored.
   *[other] At most { $count } attachments per record. Nothing was stored.
}
write-error-request-too-large = The form with its attachments is larger than { $max } MB. Nothing was stored.
write-no-persona-title = No key to sign with
write-no-persona-text = A record is signed with the key of a persona, and this archive has none. In a terminal, run `qoima key new --name NAME` (any name: it stays on this device), then open this page again.

write-field-coordinates = Exact place (coordinates, optional)
write-hint-coordinates = Leave these empty unless the exact spot matters: the name of the place is often enough. Coordinates are exact: they can lead to a witness's home or to where someone hid, and once the record is signed they cannot be taken out of it. Sealing the record hides them from everyone but its recipients. Write decimal degrees, such as 43.2383 and 76.9453.
write-field-lat = Latitude
write-field-lon = Longitude
write-field-radius = Accuracy in metres
write-error-degrees-number = “{ $field }” is not a number. Write decimal degrees, such as 43.2383, or leave it empty.
write-error-radius-number = “{ $field }” must be a whole number of metres, such as 50, or empty.
write-error-lat-range = “{ $field }” must be between -90 and 90 degrees.
write-error-lon-range = “{ $field }” must be between -180 and 180 degrees.
write-error-coordinate-missing = “{ $field }” is empty: give both latitude and longitude, or neither.
write-error-radius-alone = “{ $field }” says how exact the coordinates are: give the coordinates too, or leave it empty.

write-field-seal-to = Seal to
write-seal-hides = Sealing makes the record readable only by the people you tick here, and by you: its title, text, place and coordinates, the details of the witness or the person, and the contents of its attachments are encrypted for them. Everyone else who holds the record (your peers, whoever copies it or takes this device) sees the title “Sealed record” in their place.
write-seal-shows = Sealing does not hide that the record exists, that your key signed it, its kind, when it was written and when it happened, its tags, language and consent, how many attachments it has and their sizes, or to how many people it is sealed. With consent to share, it still travels to your peers. Someone on the same network, or a neighbour, learns no more than without sealing: that this archive exchanges data. Whoever unlocks this archive can read it, as you can.
write-seal-none = No one can receive sealed records from this archive yet. To seal a record to a person: they publish a key for sealed records with “qoima key sealing” in a terminal; once it reaches this archive (from a peer or a USB drop), compare their key's fingerprint with them, aloud or on paper, and trust it on the “Keys & trust” page. They are then listed here.
write-seal-choose = Tick the people who may read it. With none ticked, everyone who holds the record can read it.
write-seal-recipient = { $name } ({ $fingerprint })
write-error-too-many-recipients = { $count ->
    [one] “{ $field }”: at most { $count } person.
   *[other] “{ $field }”: at most { $count } people.
}
write-error-recipient-unknown = “{ $field }”: a person chosen is not a key known in this archive. Choose among the people listed.
write-error-recipient-not-trusted = “{ $field }”: you do not trust { $fingerprint }. Compare its fingerprint with its holder, aloud or on paper, and trust it on the “Keys & trust” page first.
write-error-recipient-revoked = “{ $field }”: the key { $fingerprint } is revoked (its holder says it is compromised): nothing is sealed to it.
write-error-recipient-no-key = “{ $field }”: no key for sealed records from { $fingerprint } has reached this archive yet. Its holder publishes one with “qoima key sealing”.

write-written = The record was signed and stored.
write-written-uncleaned = These attachments could not be cleaned and were stored as they are: they may still reveal where, when and with what they were made.
write-written-uncleaned-what-now = If that could endanger someone, withdraw the record at once with “qoima retract” in a terminal (the withdrawal follows it to every peer that got it), then write it again without them.
write-written-attachment = Attachment { $number }
write-written-attachment-named = Attachment { $number }: { $name } ({ $type })
