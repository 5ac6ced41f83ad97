-- Whether a message holds back the later messages of its (destination, correlation) until it has finished.
-- Messages that change something at the receiver do (a transfer's PUT before its PATCH); a GET, and an answer
-- to a look-up (PUT /parties, /participants and their errors), only inform, and holding the next look-up
-- answer behind them serialised every answer about one popular party: under sustained load the queue of
-- PUT /parties to one payer grew without end (83,000 waiting after 200,000 transfers of bench:e2e).
ALTER TABLE outbox_message ADD COLUMN holds_back INTEGER NOT NULL DEFAULT 1 CHECK (holds_back IN (0, 1));
UPDATE outbox_message SET holds_back = 0
 WHERE state IN ('PENDING', 'SENDING') AND (method = 'GET' OR correlation LIKE 'parties/%' OR correlation LIKE 'participants/%');
