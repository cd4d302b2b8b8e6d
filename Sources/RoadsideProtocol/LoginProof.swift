import Crypto
import Foundation

/// Proof, carried by a login's audit entry, that whoever logged in knew the PIN: an
/// HMAC-SHA256, keyed with the PIN's hash central keeps, of the terminal, the officer, the
/// entry's sequence number and time and the PIN's version, written `<hex>@<version>`. The
/// terminal's file holds only its bound verifier, from which the key cannot be computed, so a
/// login entry written into the file by hand carries no valid proof.
public enum LoginProof {
  /// `hash`: the PIN's PBKDF2 output; `version`: when the PIN in force was set
  /// (`pinSetAt`), or `-` for a fixture's.
  public static func make(
    hash: [UInt8], terminal: String, officer: String, seq: Int64, at: String, version: String
  ) -> String {
    let text = ["roadside-login-v1", terminal, officer, String(seq), at, version].joined(
      separator: "\n")
    let code = HMAC<SHA256>.authenticationCode(
      for: Data(text.utf8), using: SymmetricKey(data: hash))
    return Hex.encode(code) + "@" + version
  }

  /// The version a proof names (which of the officer's PINs central checks it with).
  public static func version(of proof: String) -> String? {
    guard let at = proof.firstIndex(of: "@") else { return nil }
    return String(proof[proof.index(after: at)...])
  }

  /// Whether `proof` was made with `hash` for this entry (compared in constant time).
  public static func verify(
    _ proof: String, hash: [UInt8], terminal: String, officer: String, seq: Int64, at: String
  ) -> Bool {
    guard let version = version(of: proof) else { return false }
    let expected = Array(
      make(hash: hash, terminal: terminal, officer: officer, seq: seq, at: at, version: version)
        .utf8)
    let given = Array(proof.utf8)
    var difference: UInt8 = 0
    for (a, b) in zip(expected, given) { difference |= a ^ b }
    return difference == 0 && expected.count == given.count
  }
}
