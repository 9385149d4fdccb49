phase = 'in_follow_up'
  AND worklist_day > {as_of}
  AND clock_start <= {as_of}
