# The peers and sync page (/peers).

nav-peers = Peers and sync
peers-title = Peers and sync
peers-no-node = This interface runs without a node, so there is nothing to show about peers and sync.
peers-no-answer = The node did not answer within 2 seconds. It may be busy; try again in a moment.
peers-refresh = Refresh
peers-this-node = This node
peers-archive = Archive
peers-records = { $count ->
    [one] { $count } record
   *[other] { $count } records
}
peers-peers = Peers
peers-connected = { $count } connected, { $known } known
peers-heading = Peers
peers-none = No peers yet. Nodes on the same local network find each other by themselves; others need an address (qoima node --peer).
peers-col-peer = Peer
peers-col-state = State
peers-col-last-sync = Last sync
peers-col-received = Received
peers-col-declined = Declined by policy
peers-col-strikes = Strikes
peers-col-ban = Ban
peers-columns-meaning = A peer is shown by the end of its network name only. “Received” and “Declined by policy” count records since this node started; a declined record is valid but not kept under your settings, and is no fault of the peer. Strikes count invalid messages; too many and the peer is banned for a while.
peers-state-connected = connected
peers-state-known = not connected
peers-never-synced = never
peers-last-sync = { $ago } ({ $when }), brought { $count ->
    [one] { $count } record
   *[other] { $count } records
}
peers-not-banned = no
peers-banned-until = until { $when }
peers-more = { $count ->
    [one] and { $count } more
   *[other] and { $count } more
}
peers-transfers-heading = Attachments being fetched
peers-no-transfers = No attachment is being fetched now.
peers-transfer-progress = { $have } of { $size } ({ $percent }%)
peers-transfer-speed = { $size }/s
peers-transfer-sources = { $count ->
    [one] from { $count } peer
   *[other] from { $count } peers
}
peers-budget = Attachment budget of this run: { $used } of { $budget } used.

ago-now = just now
ago-minutes = { $count ->
    [one] { $count } minute ago
   *[other] { $count } minutes ago
}
ago-hours = { $count ->
    [one] { $count } hour ago
   *[other] { $count } hours ago
}
ago-days = { $count ->
    [one] { $count } day ago
   *[other] { $count } days ago
}

size-with-unit = { $value } { $unit }
unit-bytes = B
unit-kb = kB
unit-mb = MB
unit-gb = GB
unit-tb = TB
