# The USB drops page: bundle files written for a stick and taken in from one.
nav-drops = USB drops
drops-title = USB drops
drops-intro = Carry records where there is no network: write them to a bundle file on a USB stick, and take in the bundle files others bring. Every record in a file is checked before it is kept.
drops-export-title = Write a bundle file
drops-export-intro = The file is signed by a key made for it alone: it does not name you. Without sealing, whoever finds the stick can read the records in it.
drops-export-kind = Records of kind
drops-export-kind-all = All kinds
drops-export-since = Written on or after (leave empty for all)
drops-export-attachments = With the photos and files attached to them (held here)
drops-export-unshared = Also records written here without consent to share them
drops-export-seal = Sealing
drops-export-seal-none = Not sealed
drops-export-seal-passphrase = Sealed with a passphrase (tell it to the receiver another way than the stick)
drops-export-passphrase = Passphrase
drops-export-passphrase-again = The passphrase again
drops-export-seal-recipients = Sealed to people you trust (only their archives open it)
drops-export-recipients = Their names or fingerprints, separated by commas
drops-export-button = Write the file
drops-export-bad-kind = This kind of record is unknown. Choose one from the list.
drops-export-bad-since = The date was not understood. Write it as 2022-01-05.
drops-export-passphrase-empty = Type a passphrase to seal the file with, or choose "Not sealed".
drops-export-passphrases-differ = The two passphrases differ. Type the same one twice.
drops-export-no-recipients = Name at least one person to seal the file to.
drops-export-too-many-recipients = { $count ->
    [one] A file can be sealed to at most { $count } person.
   *[other] A file can be sealed to at most { $count } people.
}
drops-export-form-too-large = The form sent is too long.
drops-export-recipient-unknown = A name or fingerprint given is not a key known in this archive. Check its spelling.
drops-export-recipient-revoked = The key { $fingerprint } is revoked (its holder says it is compromised): nothing is sealed to it.
drops-export-recipient-not-trusted = You do not trust { $fingerprint } yet. Compare its fingerprint with its holder, aloud or on paper, and add it under "Keys & trust" first.
drops-export-recipient-no-key = No key for sealed records from { $fingerprint } has reached this archive yet. Its holder publishes one with "qoima key sealing".
drops-import-title = Take in bundle files
drops-import-intro = Choose the bundle files from the stick. Each one is checked; what does not verify is not kept, and nothing already here is lost.
drops-import-passphrase = Passphrase of sealed files (if one was told to you)
drops-import-files = Bundle files
drops-import-bounds = At most { $files } files at once, { $file } MB each, { $total } MB in all.
drops-import-button = Take them in
drops-import-total-too-large = The files together are larger than { $count } MB. Nothing was read. Take them in a few at a time.
drops-import-not-an-upload = No files were sent. Choose bundle files in the form.
drops-import-no-files = No files were chosen.
drops-import-passphrase-too-long = The passphrase is too long. Nothing was read.
drops-import-upload-broken = The upload broke off before its end. The files listed were read; the others were not.
drops-results-title = Bundle files taken in
drops-results-back = Back to USB drops
drops-file-bundle = Bundle { $bundle }, signed by the one-time key { $signer }
drops-file-new = { $count ->
    [one] { $count } new record kept
   *[other] { $count } new records kept
}
drops-file-present = { $count ->
    [one] { $count } record already held here
   *[other] { $count } records already held here
}
drops-file-rejected = { $count ->
    [one] { $count } item refused
   *[other] { $count } items refused
}
drops-file-attachments-new = { $count ->
    [one] { $count } new attachment
   *[other] { $count } new attachments
}
drops-file-attachments-present = { $count ->
    [one] { $count } attachment already held here
   *[other] { $count } attachments already held here
}
drops-file-declined = { $count } valid records not kept: { $reason }.
drops-declined-not-trusted = their author is not trusted here, and this archive keeps only trusted authors' records
drops-declined-hourly = their author, unknown here, sent more records this hour than this archive takes
drops-declined-bytes = their author, unknown here, sent more bytes than this archive takes
drops-declined-shared = authors unknown here sent, together, more records this hour than this archive takes
drops-file-rejected-item = Item { $index } ({ $item }) refused: { $reason }
drops-file-rejected-item-later = Item { $index } ({ $item }) not read: it was made by a later version of qoima ({ $reason })
drops-file-rejected-more = { $count ->
    [one] …and { $count } more item refused.
   *[other] …and { $count } more items refused.
}
drops-file-damaged = { $count ->
    [one] The file is damaged: cut short or altered. The { $count } record checked before the damage is kept; the rest of the file was not read.
   *[other] The file is damaged: cut short or altered. The { $count } records checked before the damage are kept; the rest of the file was not read.
}
drops-file-not-a-bundle = This file is not a qoima bundle, or it was altered: its beginning does not verify. Nothing of it was kept.
drops-file-unreadable = The file could not be read. Nothing of it was kept.
drops-file-too-large = { $count ->
    [one] The file is larger than { $size } MB and was not read to its end. The { $count } record checked before is kept.
   *[other] The file is larger than { $size } MB and was not read to its end. The { $count } records checked before are kept.
}
drops-file-needs-passphrase = This file is sealed with a passphrase. Type the passphrase in the form and choose the file again. Nothing of it was read.
drops-file-wrong-passphrase = The passphrase does not open this sealed file (or the file was altered). Nothing of it was kept.
drops-file-not-a-recipient = This file is sealed to other people: none of your keys opens it. Nothing of it was kept.
drops-file-sealed-damaged = This sealed file is damaged. Nothing of it was kept.
drops-file-not-read = { $count ->
    [one] Not read: at most { $count } file is taken at once. Choose it again.
   *[other] Not read: at most { $count } files are taken at once. Choose it again.
}
drops-file-archive-failed = This archive could not store the file (a failure of this computer, not of the file). Nothing of it was kept; try again.
drops-file-detail = In the reader's words:
drops-file-clean = Every item verified.
