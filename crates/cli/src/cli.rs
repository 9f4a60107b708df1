//! The command line: every command, flag and help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Data directory: --home DIR, else $QOIMA_HOME, else the platform's data directory
(on Linux ~/.local/share/qoima). Passphrase: $QOIMA_PASSPHRASE, else asked for.

Exit status:
  0  success
  1  something failed verification or was rejected
  2  wrong usage
  3  no such record or file, or no running node
  4  no key yet, or wrong passphrase
  5  any other error

A valid signature proves which key vouched for exactly these bytes. It does not prove
that what the record says is true.";

/// qoima keeps an archive of signed testimonies, incident reports and their photos and
/// videos, and moves them between people as self-verifying bundle files.
#[derive(Debug, Parser)]
#[command(name = "qoima", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// Data directory (archive, attachments, sealed key).
    #[arg(long, global = true, env = "QOIMA_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node: find peers on the local network and at the given addresses, and keep
    /// this archive in sync with theirs until stopped (Ctrl-C). On first run it creates
    /// the archive and your author key, as `init` does.
    ///
    /// Whose records are kept (--accept, --quota-*) and which attachments are fetched
    /// (--fetch-up-to, --blob-quota, --budget) are saved in the archive and hold from one
    /// run to the next; the web interface's settings page changes them, and a running
    /// node applies the change at once. An option given here replaces the saved value
    /// and is saved in its place; an option left out keeps the saved value.
    Node(NodeArgs),
    /// Show the running node's state: addresses, archive size, peers.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the peers the running node is connected to or has met.
    Peers {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create the data directory and a new author key, sealed under a passphrase.
    Init,
    /// Your author keys (personas): show, list, make a new one, choose the default.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The author keys you believe: trust a key after comparing its fingerprint with its
    /// holder in person, list them, stop trusting one. `list`, `show` and `verify` then
    /// say per record whether its author is trusted. Kept only in this encrypted archive.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Destroy this archive for good, in under a second whatever its size: the key that
    /// encrypts it is destroyed first (after that nothing in it can be read, even with the
    /// passphrase), then its files are removed. A running node is stopped first. Asks for
    /// confirmation unless --yes. Cannot reach copies made elsewhere (bundles, backups).
    Wipe {
        /// Do not ask for confirmation (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Make the running node forget the archive key and stop. Until the passphrase is
    /// typed again, nothing in the archive can be read on this device.
    Lock,
    /// Open the running node's web interface in the browser (in Kazakh, Russian or
    /// English): read the archive and its records without a terminal. The address holds
    /// a code that lets one browser in, once, within a minute: run it again for another.
    Ui {
        /// Only print the address; do not start a browser.
        #[arg(long)]
        no_open: bool,
    },
    /// Make the key of a closed group (see `node --network-key`).
    #[command(subcommand)]
    NetworkKey(NetworkKeyCommand),
    /// Write, sign and store a new record.
    Add(Box<AddArgs>),
    /// Withdraw one of your own records: signs a retraction that travels like a record;
    /// every node that receives it deletes the record and its attachments and keeps only
    /// a tombstone so it is not fetched again. A retraction by anyone but the author
    /// changes nothing.
    Retract {
        /// Record id (or a unique prefix of it).
        id: String,
        /// Why, in a few words (travels with the retraction).
        #[arg(long)]
        reason: Option<String>,
    },
    /// List records, newest first.
    List(ListArgs),
    /// Fetch a record's attachments from peers now, whatever their size (the running
    /// node does it; --wait shows progress until they are here).
    Fetch {
        /// Record id (or a unique prefix of it).
        id: String,
        /// Wait, with a progress bar, until every attachment is here.
        #[arg(long)]
        wait: bool,
    },
    /// Show one record in full, with how it reached this archive.
    Show {
        /// Record id (or its first characters, at least 4).
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a record's attachment to a new FILE: decrypted from the archive, checked
    /// against the hash its author signed, and for a record sealed to you opened with
    /// your key (its real name and type are printed).
    Attachment {
        /// Record id (or a unique prefix of it).
        id: String,
        /// Which attachment, from 1 (as `qoima show` lists them).
        number: usize,
        /// Where to write it (a new file: never replaced).
        file: PathBuf,
    },
    /// Search titles, text, tags and places (Cyrillic and Latin; every word must match).
    /// A word also finds its other forms (задержан: задержали, задержания; Жаңаөзен:
    /// Жаңаөзенде); words in "double quotes" are an exact phrase.
    Search {
        /// Words to find (each matches its forms, and words it begins); "quoted words"
        /// match only as written, in that order.
        text: String,
        /// At most this many results.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write records (and optionally their attachments) to a bundle file. Each record
    /// carries its author's signature; the bundle itself is signed by a one-time key, so it
    /// does not name whoever carries it (see --sign-as-me).
    Export(ExportArgs),
    /// Verify bundle files and merge what is valid into the archive.
    Import {
        /// Bundle files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle file, or a record in the archive, and report every hash and signature.
    Verify {
        /// A bundle file, or a record id.
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `qoima key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Print a public key and its fingerprint (the default persona's, or --as NAME's).
    Show {
        /// The persona to show.
        #[arg(long = "as", value_name = "NAME")]
        persona: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the personas: the author keys this archive signs with.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make a new persona: a new author key, unlinkable to your others, for records
    /// written in another context (e.g. `--name lawyer`). Its secret stays in the
    /// encrypted archive.
    New {
        /// Its name, local to this archive (never sent anywhere).
        #[arg(long)]
        name: String,
    },
    /// Choose the persona that signs records when `--as` is not given.
    Default {
        /// The persona's name (see `qoima key list`).
        name: String,
    },
    /// Say in public that a key is compromised (seized, copied, forced). Records it signs
    /// after --since (default: now), first seen by a node after that, show as suspect
    /// everywhere, and retractions it signs then delete nothing. Records seen before keep
    /// their standing. Cannot be undone; asks to type REVOKE unless --yes.
    Revoke {
        /// The persona whose key is compromised (default: the default persona).
        #[arg(long = "as", value_name = "NAME")]
        persona: Option<String>,
        /// Compromised since when (e.g. 2022-01-05T14:00); default now.
        #[arg(long)]
        since: Option<String>,
        /// Why, in a few words (travels with the revocation).
        #[arg(long)]
        reason: Option<String>,
        /// Do not ask for confirmation (for scripts).
        #[arg(long)]
        yes: bool,
    },
    /// Make a revocation now and keep it aside (on paper or another stick), without
    /// publishing it: if the key is seized, import the file on any node. It counts from
    /// when each node first sees it, so keep it off this device.
    RevocationCert {
        /// Where to write it (a new file: never replaced).
        file: PathBuf,
        /// The persona it revokes (default: the default persona).
        #[arg(long = "as", value_name = "NAME")]
        persona: Option<String>,
        /// Why, in a few words.
        #[arg(long)]
        reason: Option<String>,
        /// Write it as text to print and keep on paper (base32 between two marker
        /// lines); `qoima import` reads it back, typed in or scanned, as it reads a file.
        #[arg(long)]
        paper: bool,
    },
    /// Publish this persona's key for sealed records (made on first use, separate from
    /// its signing key), so that others can write records only you can read
    /// (`qoima add … --seal-to YOUR-FINGERPRINT`). Prints the key.
    Sealing {
        /// The persona (default: the default persona).
        #[arg(long = "as", value_name = "NAME")]
        persona: Option<String>,
    },
}

/// `qoima trust …`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust an author key. Compare the fingerprint with its holder in person first (on
    /// their device: `qoima key show`): a signature shows which key signed a record, and
    /// only that comparison ties the key to a person.
    Add {
        /// The key: its whole public key (64 hex digits), or its fingerprint
        /// (e.g. YJW7-2VKM-…) if a record here is signed by it.
        key: String,
        /// The name you know its holder by (local: never sent anywhere).
        #[arg(long)]
        name: String,
    },
    /// List the keys you trust.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a key (given as key, fingerprint or the name it is trusted under).
    /// Its records stay; they show as from an unknown author.
    Remove {
        /// The key, its fingerprint, or its trusted name.
        key: String,
    },
    /// Vouch for a key in public: signs an endorsement record that travels to everyone.
    /// People who trust you then see that key's records as endorsed (by you, and through
    /// up to three endorsements). It tells everyone who receives it that you know each
    /// other: only endorse when that is safe. Withdraw it with `qoima retract ID`.
    Endorse {
        /// The key: whole public key, fingerprint, or trusted name.
        key: String,
        /// The name you vouch for its holder under (public!).
        #[arg(long)]
        name: String,
        /// The persona that vouches (default: the default persona).
        #[arg(long = "as", value_name = "NAME")]
        persona: Option<String>,
    },
}

/// `qoima network-key …`
#[derive(Debug, Subcommand)]
pub enum NetworkKeyCommand {
    /// Write a new random closed-group key to FILE (never replacing a file). Every member
    /// of the group needs a copy of the same file; nodes without it cannot connect to the
    /// group's nodes. A closed group uses TCP only: QUIC is off.
    New {
        /// Key file to create (owner-readable only).
        file: PathBuf,
    },
}

/// Record kinds that can be written with flags.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AddKind {
    /// A witness's account.
    Testimony,
    /// An incident report.
    Incident,
    /// A detained or missing person.
    Detention,
    /// An evidence item (a photo, video or document with its context).
    Evidence,
}

/// `qoima add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The kind of record (optional with --from, which may name it).
    pub kind: Option<AddKind>,
    /// A JSON file with the record's fields (see README: "The JSON form of a record").
    /// Flags given as well override its fields.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// One-line summary.
    #[arg(long)]
    pub title: Option<String>,
    /// The account itself.
    #[arg(long, conflicts_with = "text_file")]
    pub text: Option<String>,
    /// Read the account from a UTF-8 text file.
    #[arg(long, value_name = "FILE")]
    pub text_file: Option<PathBuf>,
    /// When the events happened: 2022-01-05, 2022-01-05T14:30+06:00, or 2022-01-05/2022-01-07.
    /// The precision is what you write.
    #[arg(long, value_name = "WHEN")]
    pub occurred_at: Option<String>,
    /// Where, by name.
    #[arg(long)]
    pub place: Option<String>,
    /// Coordinates as LAT,LON in decimal degrees (e.g. 43.2383,76.9453).
    #[arg(long, value_name = "LAT,LON", requires = "place")]
    pub coords: Option<String>,
    /// How precise the coordinates are, in metres.
    #[arg(long, value_name = "METRES", default_value_t = 0, requires = "coords")]
    pub radius: u32,
    /// Language of title and text (ru, kk, en…).
    #[arg(long)]
    pub lang: Option<String>,
    /// A tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Attach a file: photo, video, audio, document (repeatable). Photos and videos lose
    /// their location, device and time metadata (EXIF, XMP, IPTC, MP4 metadata) and the
    /// file name is not recorded, before anything is hashed or stored; your file itself
    /// is never changed. Formats that cannot be cleaned are named in a warning.
    #[arg(long = "attach", value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Keep attachments exactly as they are, metadata and file name included. Only for
    /// files whose metadata can betray nobody (or where it is itself the evidence).
    #[arg(long)]
    pub keep_metadata: bool,
    /// Seal the text, the place and the kind's details (witness, person, facility…) to
    /// this recipient: everyone carries and verifies the record, only the recipients (and
    /// you) can read those fields. Give a key, fingerprint or trusted name whose key for
    /// sealed records (`qoima key sealing` on their device) has reached this archive.
    /// Repeat for several recipients (up to 15). Attachments (up to 256 MB each) are
    /// sealed too: carriers hold only their ciphertext.
    #[arg(long = "seal-to", value_name = "KEY|NAME")]
    pub seal_to: Vec<String>,
    /// With --seal-to: the title everyone sees (default "Sealed record"); the title you
    /// gave is sealed with the rest.
    #[arg(long, value_name = "TEXT", requires = "seal_to")]
    pub public_title: Option<String>,
    /// With --seal-to: text everyone may read beside the sealed part (e.g. what happened,
    /// while the witness's name and the exact place stay sealed).
    #[arg(long, value_name = "TEXT", requires = "seal_to")]
    pub public_text: Option<String>,
    /// Keep the untouched original of each attachment (its location, device and time:
    /// evidence in court) for this recipient: the record carries the copy without
    /// metadata for everyone, and the original travels in a record of its own, sealed
    /// to the recipients (and you), which the record links as derived from. A key,
    /// fingerprint or trusted name, as for --seal-to; repeatable.
    #[arg(
        long = "seal-original-to",
        value_name = "KEY|NAME",
        conflicts_with = "seal_to"
    )]
    pub seal_original_to: Vec<String>,
    /// Testimony: a pseudonymous reference to the witness (never a real name).
    #[arg(long, value_name = "REF")]
    pub witness: Option<String>,
    /// Testimony: how the witness knows.
    #[arg(long, value_enum)]
    pub relation: Option<Relation>,
    /// Incident: what happened.
    #[arg(long, value_enum)]
    pub incident_type: Option<Incident>,
    /// Detention: a pseudonymous reference to the person.
    #[arg(long, value_name = "REF")]
    pub person: Option<String>,
    /// Detention: where they are held.
    #[arg(long)]
    pub facility: Option<String>,
    /// Detention: which authority holds them.
    #[arg(long)]
    pub authority: Option<String>,
    /// Consent given (repeatable): share (with documenting organisations), publish, court.
    #[arg(long = "consent", value_enum)]
    pub consent: Vec<ConsentFlag>,
    /// Sign as this persona instead of the default one (see `qoima key list`).
    #[arg(long = "as", value_name = "NAME")]
    pub persona: Option<String>,
}

/// How a witness knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[allow(missing_docs)]
pub enum Relation {
    Victim,
    Eyewitness,
    Relative,
    Hearsay,
    Other,
}

/// Incident types.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[allow(missing_docs)]
pub enum Incident {
    Detention,
    UseOfForce,
    Shooting,
    Torture,
    Disappearance,
    Dispersal,
    Censorship,
    PropertyDamage,
    Other,
}

/// Consent flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[allow(missing_docs)]
pub enum ConsentFlag {
    Share,
    Publish,
    Court,
}

/// `qoima list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this kind (testimony, incident, detention, evidence, correction, retraction).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only by this author: a public key, a fingerprint, or "me".
    #[arg(long, value_name = "KEY")]
    pub author: Option<String>,
    /// Only records created (as their author claims) at or after this time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only records whose place's name has these words, in any of their forms
    /// ("Алмате" finds "Алматы"). Lists newest stored first, as `qoima search` does.
    #[arg(long, value_name = "WORDS")]
    pub place: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `qoima node`
#[derive(Debug, Args)]
pub struct NodeArgs {
    /// Listen on this address (repeatable). Default: TCP and QUIC (TCP only with
    /// --network-key) on all interfaces, port 4270, or any free port if it is taken.
    #[arg(long, value_name = "MULTIADDR")]
    pub listen: Vec<String>,
    /// Dial this peer at start and whenever the connection is lost (repeatable), e.g.
    /// /ip4/192.168.1.20/tcp/4270.
    #[arg(long, value_name = "MULTIADDR")]
    pub peer: Vec<String>,
    /// Do not look for peers on the local network. mDNS answers anyone on the LAN with
    /// this node's network id and addresses: it tells them a qoima node runs here.
    #[arg(long)]
    pub no_mdns: bool,
    /// Use a fresh network identity for this run instead of the one kept in node.key, so
    /// peers and LAN observers cannot recognise this device from one run to the next
    /// (peers then meet a stranger each time).
    #[arg(long)]
    pub new_identity: bool,
    /// The collection to sync.
    #[arg(long, default_value = "default")]
    pub collection: String,
    /// Join the closed group whose key is in FILE (made by `qoima network-key new`): only
    /// nodes with the same key can connect to this one, and it to them. TCP only: QUIC
    /// cannot carry the group's handshake, so it is off.
    #[arg(long, value_name = "FILE")]
    pub network_key: Option<PathBuf>,
    /// Seconds between reconciliations with each connected peer (also done on connect).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub sync_every: u64,
    /// Fetch attachments up to this size from peers without being asked (photos,
    /// short videos); larger ones wait for `qoima fetch ID`. Records always travel.
    /// Sizes like 500KB, 20MB, 2GB (or KiB, MiB, GiB); 0: none (default 256MiB). Saved
    /// in the archive.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub fetch_up_to: Option<u64>,
    /// Keep at most this many bytes of attachments: no new transfer starts past it
    /// (nothing held is deleted). 0: no limit (the default). Saved in the archive.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub blob_quota: Option<u64>,
    /// Receive at most this many bytes of attachments in each run (for a paid amount of
    /// mobile data); records still sync once it is spent. 0: no limit (the default).
    /// Saved in the archive.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub budget: Option<u64>,
    /// Whose records to keep, from peers and from files alike: `open` keeps every
    /// validly signed record, with quotas for authors nobody here vouches for; `trusted`
    /// keeps only your personas', trusted and endorsed authors' records. Saved in the
    /// archive (`qoima import` follows it too) until changed. Declining a valid record is
    /// never held against whoever sent it.
    #[arg(long, value_enum)]
    pub accept: Option<AcceptArg>,
    /// Under --accept open: records kept per unknown author per hour (default 10000;
    /// 0: no limit). Saved in the archive.
    #[arg(long, value_name = "N")]
    pub quota_records: Option<u32>,
    /// Under --accept open: bytes of records kept per unknown author in all (default
    /// 256MB; 0: no limit). Attachments are governed by --fetch-up-to and --blob-quota.
    /// Saved in the archive.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub quota_bytes: Option<u64>,
    /// Under --accept open: records kept per hour from all unknown authors together
    /// (default 50000; 0: no limit), so a flood split over many new keys is bounded too.
    /// Saved in the archive.
    #[arg(long, value_name = "N")]
    pub quota_unknown: Option<u32>,
    /// Serve the web interface on this port of 127.0.0.1 (or the next free one of the
    /// following 19); open it with `qoima ui`. It is never reachable from another machine.
    #[arg(long, default_value_t = 4271, value_name = "PORT")]
    pub ui_port: u16,
    /// Do not serve the web interface.
    #[arg(long)]
    pub no_ui: bool,
    /// More log output (-v: debug, -vv: trace).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `qoima node --accept`
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AcceptArg {
    /// Every valid record; unknown authors within quotas.
    Open,
    /// Only records of your personas, trusted and endorsed authors.
    Trusted,
}

/// `qoima export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Bundle file to write (replaced only once it is complete).
    pub file: PathBuf,
    /// Only records created (as claimed) at or after this time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// Include the attachments this archive holds for those records.
    #[arg(long)]
    pub with_attachments: bool,
    /// Collection name written into the bundle.
    #[arg(long, default_value = "default")]
    pub collection: String,
    /// Sign the bundle with your author key (asks for the passphrase), to vouch that you
    /// made it. Everyone who receives the file then sees, and keeps, your key as its
    /// maker. Without this flag the bundle is signed by a one-time key that is then
    /// forgotten: the file does not name its courier.
    #[arg(long)]
    pub sign_as_me: bool,
    /// Seal the whole file (manifest included) under a passphrase of its own, asked twice
    /// (or $QOIMA_BUNDLE_PASSPHRASE): a stick found at a checkpoint then reveals its size
    /// and nothing else. Tell the recipient the passphrase in person or by another way
    /// than the stick; `qoima import` asks for it.
    #[arg(long, conflicts_with = "seal_to")]
    pub passphrase: bool,
    /// Seal the whole file to this recipient instead (a key, fingerprint or trusted name
    /// whose key for sealed records has reached this archive; repeat for several, up to
    /// 16): only their archives open it, and no passphrase has to travel. A stick found
    /// at a checkpoint reveals its size, that it is sealed, and how many recipients.
    #[arg(long = "seal-to", value_name = "KEY|NAME")]
    pub seal_to: Vec<String>,
    /// Also write the records you made whose consent does not allow sharing (`add`
    /// without `--consent share`); they are otherwise left out, as they are never
    /// offered to peers.
    #[arg(long)]
    pub include_unshared: bool,
}

/// Parses a size such as `500MB`, `2GiB`, `700k` or `1048576`: decimal units (KB, MB,
/// GB, TB) and binary ones (KiB, MiB, GiB, TiB), any case, optional space.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 500MB or 2GB)"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use KB, MB, GB or KiB, MiB, GiB)"
            ));
        }
    };
    let bytes = number * factor as f64;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod size_tests {
    use super::parse_size;

    #[test]
    fn sizes_people_write() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5gb"), Ok(1_500_000_000));
        assert_eq!(parse_size("700k"), Ok(700_000));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
    }
}
