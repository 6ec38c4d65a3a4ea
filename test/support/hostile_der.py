"""hostile_der: a small hand-written DER encoder for building hostile
PKCS#10 requests byte by byte (test/support/make-hostile-csrs.py,
test/trust-regressions.janet). Every TLV can be given a length other than the
minimal one, SET OFs can be left unsorted, OIDs written from raw bytes; Python
cryptography only supplies EC P-256 keys and signs the certificationRequestInfo
bytes exactly as built, so a request is always validly signed."""

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

# --- DER by hand ---------------------------------------------------------------

TAG_BOOLEAN = 0x01
TAG_INTEGER = 0x02
TAG_BIT_STRING = 0x03
TAG_OCTET_STRING = 0x04
TAG_OID = 0x06
TAG_ENUMERATED = 0x0A
TAG_UTF8_STRING = 0x0C
TAG_NUMERIC_STRING = 0x12
TAG_PRINTABLE_STRING = 0x13
TAG_TELETEX_STRING = 0x14
TAG_IA5_STRING = 0x16
TAG_VISIBLE_STRING = 0x1A
TAG_UNIVERSAL_STRING = 0x1C
TAG_BMP_STRING = 0x1E
TAG_SEQUENCE = 0x30
TAG_SET = 0x31
TAG_CONTEXT_0_CONSTRUCTED = 0xA0
TAG_CONTEXT_0_PRIMITIVE = 0x80

# GeneralName choices (RFC 5280 4.2.1.6), implicitly tagged
GN_OTHER_NAME = 0xA0
GN_RFC822_NAME = 0x81
GN_DNS_NAME = 0x82
GN_DIRECTORY_NAME = 0xA4
GN_URI = 0x86
GN_IP_ADDRESS = 0x87

OID_CN = "2.5.4.3"
OID_SERIAL_NUMBER = "2.5.4.5"
OID_C = "2.5.4.6"
OID_L = "2.5.4.7"
OID_ST = "2.5.4.8"
OID_O = "2.5.4.10"
OID_OU = "2.5.4.11"
OID_EMAIL_ADDRESS = "1.2.840.113549.1.9.1"
OID_DOMAIN_COMPONENT = "0.9.2342.19200300.100.1.25"
OID_UNKNOWN_ATTRIBUTE = "1.3.6.1.4.1.32473.1.1"  # RFC 5612 example enterprise number
OID_CHALLENGE_PASSWORD = "1.2.840.113549.1.9.7"
OID_EXTENSION_REQUEST = "1.2.840.113549.1.9.14"
OID_SAN = "2.5.29.17"
OID_BASIC_CONSTRAINTS = "2.5.29.19"
OID_KEY_USAGE = "2.5.29.15"
OID_NAME_CONSTRAINTS = "2.5.29.30"
OID_EKU = "2.5.29.37"
OID_ANY_EKU = "2.5.29.37.0"
OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2"
OID_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9"
OID_UNKNOWN_EKU = "1.3.6.1.4.1.32473.9"
OID_UNKNOWN_EXTENSION = "1.3.6.1.4.1.32473.7"
OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_P256 = "1.2.840.10045.3.1.7"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"


def der_length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, body, length=None):
    """A TLV; `length` (bytes) replaces the minimal length encoding."""
    return bytes([tag]) + (der_length(len(body)) if length is None else length) + body


def non_minimal_length(n):
    """The length n in one octet more than DER allows."""
    if n < 0x80:
        return bytes([0x81, n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | (len(body) + 1), 0]) + body


def split_tlv(der):
    """(tag, body) of the definite-length TLV at the start of `der`."""
    first = der[1]
    if first < 0x80:
        return der[0], der[2:2 + first]
    k = first & 0x7F
    n = int.from_bytes(der[2:2 + k], "big")
    return der[0], der[2 + k:2 + k + n]


def with_length(der, encode_length):
    """The TLV `der` with its length written by `encode_length(n)`."""
    tag, body = split_tlv(der)
    return tlv(tag, body, encode_length(len(body)))


def seq(*parts):
    return tlv(TAG_SEQUENCE, b"".join(parts))


def set_of(*parts, sort=True):
    """A SET OF; DER sorts the encodings (X.690 11.6); sort=False keeps the order given."""
    return tlv(TAG_SET, b"".join(sorted(parts) if sort else parts))


def integer(n):
    return tlv(TAG_INTEGER, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def boolean(v):
    return tlv(TAG_BOOLEAN, b"\xff" if v else b"\x00")


def oid_body(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1]] + arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def oid(dotted):
    return tlv(TAG_OID, oid_body(dotted))


def oid_raw(body_hex):
    return tlv(TAG_OID, bytes.fromhex(body_hex))


def octet_string(body):
    return tlv(TAG_OCTET_STRING, body)


def bit_string(body, unused=0):
    return tlv(TAG_BIT_STRING, bytes([unused]) + body)


# --- names -----------------------------------------------------------------------

STRING_TYPES = {
    "printable": TAG_PRINTABLE_STRING,
    "utf8": TAG_UTF8_STRING,
    "ia5": TAG_IA5_STRING,
    "bmp": TAG_BMP_STRING,
    "universal": TAG_UNIVERSAL_STRING,
    "teletex": TAG_TELETEX_STRING,
    "visible": TAG_VISIBLE_STRING,
    "numeric": TAG_NUMERIC_STRING,
    "integer": TAG_INTEGER,
    "octet": TAG_OCTET_STRING,
}
INTEGER_VALUE = 42


def string_value(kind, text):
    """`text` encoded as ASN.1 type `kind`: the bytes a requester would send
    (characters the type cannot hold are sent anyway, as UTF-8)."""
    tag = STRING_TYPES[kind]
    if kind == "bmp":
        return tlv(tag, text.encode("utf-16-be", "surrogatepass"))
    if kind == "universal":
        return tlv(tag, text.encode("utf-32-be"))
    if kind == "teletex":
        try:
            return tlv(tag, text.encode("latin-1"))
        except UnicodeEncodeError:
            return tlv(tag, text.encode("utf-8"))
    if kind == "integer":
        return integer(INTEGER_VALUE)
    return tlv(tag, text.encode("utf-8", "surrogatepass"))


def atv(type_der, value_der):
    return seq(type_der, value_der)


def attr(oid_dotted, text, kind="utf8"):
    return atv(oid(oid_dotted), string_value(kind, text))


def rdn(*atvs, sort=True):
    return set_of(*atvs, sort=sort)


def name(*rdns):
    return seq(*rdns)


def simple_name(*pairs):
    """A Name of one single-valued RDN per (oid, text[, kind])."""
    return name(*(rdn(attr(*p)) for p in pairs))


# --- requests -------------------------------------------------------------------


def extension(oid_der, value, critical=None):
    """An Extension; `critical` is None (absent) or the raw BOOLEAN TLV."""
    return seq(oid_der, *([critical] if critical is not None else []), octet_string(value))


def ext_request(*extensions):
    return seq(oid(OID_EXTENSION_REQUEST), set_of(seq(*extensions)))


def general_names(*names):
    return seq(*names)


def gn(tag, text):
    return tlv(tag, text.encode("utf-8", "surrogatepass"))


def san_ext(*names, critical=None):
    return extension(oid(OID_SAN), general_names(*names), critical)


def eku_ext(*oids_der, critical=None):
    return extension(oid(OID_EKU), seq(*oids_der), critical)


class Key:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def spki(self, alg=None, curve=None):
        return seq(seq(alg or oid(OID_EC_PUBLIC_KEY), curve or oid(OID_P256)), bit_string(self.point))

    def pem(self):
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()

    def sign(self, info, sig_alg=None, outer_length=None, unused_bits=0, trailer=b""):
        """A CertificationRequest over the `info` bytes as given."""
        sig = self.key.sign(info, ec.ECDSA(hashes.SHA256()))
        body = info + seq(sig_alg or oid(OID_ECDSA_SHA256)) + bit_string(sig, unused_bits)
        return tlv(TAG_SEQUENCE, body, outer_length) + trailer


def info(key, subject, attributes=(), version=None, spki=None, attributes_field=None, trailer=b"",
         sort_attributes=True):
    """A certificationRequestInfo. `attributes` are Attribute TLVs for the
    [0] field, a SET OF (sorted unless sort_attributes is false);
    `attributes_field` replaces the whole field (b"" drops it)."""
    version = integer(0) if version is None else version
    attributes = sorted(attributes) if sort_attributes else list(attributes)
    field = tlv(TAG_CONTEXT_0_CONSTRUCTED, b"".join(attributes)) if attributes_field is None else attributes_field
    return seq(version, subject, spki or key.spki(), field, trailer)
