"""Error type shared by every module of the Python KEZ port.

Every failure carries one class string of SPEC.md section 10.
"""

ERROR_CLASSES = frozenset(
    """json_syntax invalid_utf8 lone_surrogate duplicate_key bad_number too_deep
    trailing_data too_large bad_key bad_key_file bad_subject bad_claim bad_encoding
    bad_compression non_canonical bad_link unknown_op wrong_chain seq_gap prev_mismatch
    wrong_signer old_key bad_signature bad_target usage io exists""".split()
)


class KezError(Exception):
    """A failure with a SPEC section 10 error class."""

    def __init__(self, code, message):
        if code not in ERROR_CLASSES:  # a bug in this port, never an input property
            raise ValueError("unknown error class %r" % (code,))
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self):
        return "KezError(%r, %r)" % (self.code, self.message)
