SELECT caseledger_adopt_policy($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10)
