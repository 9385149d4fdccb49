-- Whether the connected role owns the events table (and so could disable its triggers).
SELECT EXISTS (SELECT FROM pg_tables WHERE tablename = 'events'
               AND schemaname = current_schema() AND tableowner = current_user)
