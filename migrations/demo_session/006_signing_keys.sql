-- The demo token's signing key when DEMO_TOKEN_PRIVATE_KEY is not set (development): generated
-- once by the first API process that needs it and kept here, so that every replica signs with,
-- and publishes, the same key. `name` is the key's slot ('generated'); replicas starting together
-- each offer a key with INSERT ... ON CONFLICT (name), and all end with the one that won
-- (src/db/sql/signing-keys.ts). A configured key is never written here.
CREATE TABLE signing_keys (
  name text PRIMARY KEY,
  kid text NOT NULL UNIQUE,
  alg text NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  private_jwk jsonb NOT NULL,
  public_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
