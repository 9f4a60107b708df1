# The keys and trust page.
nav-keys = Keys & trust
keys-title = Keys & trust
keys-own-title = Your keys
keys-own-intro = Read a fingerprint aloud, group by group, or copy it on paper, for the people who will trust you. It identifies your key; it is not a secret.
keys-own-default = (signs your records unless you choose another)
keys-fingerprint = Fingerprint
keys-public-key = Public key:
keys-trusted-title = Keys you trust
keys-trusted-none = You trust no key yet. Compare a fingerprint with its holder first, in person or on paper, then add it below.
keys-trusted-how = trusted directly, since { $date }
keys-remove-button = Stop trusting
keys-endorsed-title = Keys trusted through an endorsement
keys-endorsed-intro = A key you trust, or one of your own, vouched for these with an endorsement record. You do not trust them directly, so they have no button here: each stays on this list while the key that vouches for it is trusted here and has not revoked itself, and stopping trusting that key removes it. To trust one directly, add it below.
keys-endorsed-none = No key is trusted through an endorsement.
keys-endorsed-how = { $hops ->
    [one] vouched for by { $by }
   *[other] vouched for by { $by }, through a chain of { $hops } endorsements
}
keys-add-title = Trust a key
keys-add-intro = Paste the fingerprint (16 letters and digits) or the whole public key (64 characters) the person gave you. You will see it again, to compare with them, before anything is saved.
keys-add-key = Fingerprint or public key
keys-add-name = The name you know them by (only on this computer)
keys-add-button = Show it to compare
keys-add-empty = Paste a fingerprint or a public key.
keys-add-wrong-characters = This has characters that are in no fingerprint or key. A fingerprint has only the letters A to Z and the digits 2 to 7; a public key only 0 to 9 and a to f.
keys-add-wrong-length = { $count ->
    [one] This has { $count } character: a fingerprint has 16 (dashes and spaces aside), a public key 64. Check that nothing was left out.
   *[other] This has { $count } characters: a fingerprint has 16 (dashes and spaces aside), a public key 64. Check that nothing was left out.
}
keys-add-unknown-fingerprint = No key with this fingerprint has reached this archive yet. Ask the person for their whole public key and paste it.
keys-add-not-a-key = This is not a usable key. Ask the person to copy it again.
keys-add-own = This is your own key ({ $persona }): it needs no trust.
keys-add-already = You already trust this key, as { $name }.
keys-add-bad-name = { $count ->
    [one] Give a name of 1 to { $count } character, without line breaks.
   *[other] Give a name of 1 to { $count } characters, without line breaks.
}
keys-form-too-large = The form sent is too long.
keys-confirm-add-title = Compare before trusting
keys-confirm-add-intro = Read this fingerprint with the person, aloud or against their paper, group by group. Trust it only if every character is the same.
keys-confirm-compared = I compared this fingerprint with the person, aloud or on paper, and it is the same.
keys-confirm-add-button = Trust this key
keys-confirm-not-ticked = Nothing was saved: tick the box once you have compared the fingerprint with the person.
keys-confirm-remove-title = Stop trusting this key?
keys-confirm-remove-intro = Its records stay in the archive and show as from an unknown author.
keys-confirm-remove-button = Yes, stop trusting it
keys-remove-unknown = This key is not trusted here; nothing changed.
keys-trusted-done = Trusted { $name }: { $fingerprint }. Records signed by this key now show as from { $name }. A signature shows who vouched for a record, not that it is true.
keys-removed-done = No longer trusted: { $name } ({ $fingerprint }). Its records stay and show as from an unknown author.
keys-back = Back to keys & trust
