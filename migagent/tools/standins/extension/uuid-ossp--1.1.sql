-- migagent stand-in for uuid-ossp 1.1: same functions and signatures, built on
-- core PostgreSQL. v1/v1mc return random (v4) UUIDs: a sandbox needs the type
-- and uniqueness, not the MAC address. v5 needs SHA-1, which core lacks.
CREATE FUNCTION uuid_nil() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT '00000000-0000-0000-0000-000000000000'::uuid$$;
CREATE FUNCTION uuid_ns_dns() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid$$;
CREATE FUNCTION uuid_ns_url() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT '6ba7b811-9dad-11d1-80b4-00c04fd430c8'::uuid$$;
CREATE FUNCTION uuid_ns_oid() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT '6ba7b812-9dad-11d1-80b4-00c04fd430c8'::uuid$$;
CREATE FUNCTION uuid_ns_x500() RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT '6ba7b814-9dad-11d1-80b4-00c04fd430c8'::uuid$$;
CREATE FUNCTION uuid_generate_v1() RETURNS uuid LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    AS $$SELECT gen_random_uuid()$$;
CREATE FUNCTION uuid_generate_v1mc() RETURNS uuid LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    AS $$SELECT gen_random_uuid()$$;
CREATE FUNCTION uuid_generate_v4() RETURNS uuid LANGUAGE sql VOLATILE STRICT PARALLEL SAFE
    AS $$SELECT gen_random_uuid()$$;
CREATE FUNCTION uuid_generate_v3(namespace uuid, name text) RETURNS uuid
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (substr(h, 1, 12) || '3' || substr(h, 14, 3)
            || to_hex((('x' || substr(h, 17, 1))::bit(4)::int & 3) | 8)
            || substr(h, 18))::uuid
    FROM (SELECT md5(decode(replace(namespace::text, '-', ''), 'hex')
                     || convert_to(name, 'UTF8')) AS h) s
$$;
CREATE FUNCTION uuid_generate_v5(namespace uuid, name text) RETURNS uuid
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'uuid_generate_v5() is not available in migagent''s uuid-ossp stand-in'
        USING HINT = 'set MIGAGENT_SANDBOX_URL to a server that has the uuid-ossp extension';
END
$$;
