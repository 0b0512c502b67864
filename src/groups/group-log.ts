/** A group's settings as configured with PUT /v1/groups/{group}. */
export interface GroupConfig {
  streams: string[]
  types: string[] | null
  /** As asked at creation: `earliest`, `latest` or an id. Only creation reads it. */
  start: 'earliest' | 'latest' | number
  ackTimeoutSec: number
  maxDeliveries: number
  ordering: 'none' | 'stream'
  /** Creation time (epoch ms); also tells one incarnation of a group name from the next. */
  createdMs: number
  /** Highest id retention had removed from the group's streams at creation (start=earliest): no gap below it. */
  gapFloor: number
}

/** Counters that outlive a restart. */
export interface GroupCounters {
  acks: number
  redeliveries: number
  deadLetters: number
  /** Times the group found events removed by retention before it read them. */
  gaps: number
  lastGap: { after: number; firstId: number; timeMs: number } | null
}

export interface GroupRecord {
  name: string
  config: GroupConfig
  /** Every matching event with an id up to here has been read by the group (settled or pending). */
  cursor: number
  counters: GroupCounters
}

/** One event the group has read and not settled. */
export interface DeliveryRecord {
  id: number
  stream: string
  /** Who holds the lease, or null when it waits for (re)delivery. */
  consumer: string | null
  /** Deliveries so far (0: read but not yet delivered). */
  attempt: number
  /** Epoch ms: the lease deadline while held, else when it may be delivered again. */
  deadlineMs: number
  reason: string | null
  /** Being moved to the dead-letter stream. */
  isDead: boolean
}

/** What one operation batch changes, written in one transaction. */
export interface GroupWrite {
  group: string
  cursor: number
  counters: GroupCounters
  upsert: DeliveryRecord[]
  remove: number[]
}

/** The port through which groups persist; every method is synchronous and atomic. */
export interface GroupLog {
  groups(): GroupRecord[]
  /** The group's unsettled deliveries, by id. */
  deliveries(group: string): DeliveryRecord[]
  saveGroup(record: GroupRecord): void
  /** Forgets the group and its deliveries. */
  deleteGroup(name: string): void
  write(change: GroupWrite): void
}
