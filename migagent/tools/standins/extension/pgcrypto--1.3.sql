-- migagent stand-in for pgcrypto 1.3: the functions schemas use in defaults,
-- generated columns and triggers. digest() covers md5 and the SHA-2 family
-- (core PostgreSQL); what core cannot compute raises with a hint instead of
-- returning a wrong value.
CREATE FUNCTION digest(data bytea, type text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN CASE lower(type)
        WHEN 'md5' THEN decode(md5(data), 'hex')
        WHEN 'sha224' THEN sha224(data)
        WHEN 'sha256' THEN sha256(data)
        WHEN 'sha384' THEN sha384(data)
        WHEN 'sha512' THEN sha512(data)
    END;
END
$$;
CREATE FUNCTION digest(data text, type text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$SELECT digest(convert_to(data, 'UTF8'), type)$$;
CREATE FUNCTION gen_random_bytes(count integer) RETURNS bytea
    LANGUAGE sql VOLATILE STRICT PARALLEL SAFE AS $$
    SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''), 'hex')
    FROM generate_series(1, count)
$$;
CREATE FUNCTION gen_random_uuid() RETURNS uuid
    LANGUAGE sql VOLATILE PARALLEL SAFE AS $$SELECT pg_catalog.gen_random_uuid()$$;
CREATE FUNCTION crypt(password text, salt text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'crypt() is not available in migagent''s pgcrypto stand-in'
        USING HINT = 'set MIGAGENT_SANDBOX_URL to a server that has the pgcrypto extension';
END
$$;
CREATE FUNCTION gen_salt(type text) RETURNS text
    LANGUAGE plpgsql VOLATILE STRICT PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'gen_salt() is not available in migagent''s pgcrypto stand-in'
        USING HINT = 'set MIGAGENT_SANDBOX_URL to a server that has the pgcrypto extension';
END
$$;
CREATE FUNCTION hmac(data text, key text, type text) RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RAISE EXCEPTION 'hmac() is not available in migagent''s pgcrypto stand-in'
        USING HINT = 'set MIGAGENT_SANDBOX_URL to a server that has the pgcrypto extension';
END
$$;
