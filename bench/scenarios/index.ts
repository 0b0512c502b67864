import { fanoutScenarios } from './fanout-scenarios.ts'
import { http } from './http.ts'
import { idle } from './idle.ts'
import type { Scenario } from './scenario.ts'
import { soak } from './soak.ts'
import { streamsMany } from './streams-many.ts'

/** Every scenario in run order. */
export const scenarios: Scenario[] = [...fanoutScenarios, idle, http, soak, streamsMany]
