-- A waiting case: its clock starts after as_of, so eligible_on lies beyond as_of
-- plus the shortest wait of any policy version (that bound skips running cases).
phase = 'in_follow_up'
  AND worklist_day > {as_of}::date + {shortest_wait}
  AND clock_start > {as_of}
