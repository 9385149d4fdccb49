phase = 'in_follow_up'
  AND eligible_on <= {as_of}
