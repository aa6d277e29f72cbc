namespace VirtTools.UsbIp.Tls;

/// <summary>
/// Where a relayed connection's incoming byte stream stands in its TLS records (5-byte header: type, version, length;
/// then the record's body), so that a read inside a body can wait in the kernel for the rest of that body
/// (<see cref="RelayConnection"/>: MSG_WAITALL). Without it a blocking read returns with every TCP segment that arrives
/// and SslStream reads again until the record is whole: about eleven reads per 16 KiB record on a link with a 1500-byte
/// MTU. A header that is not a TLS record's ends the tracking for good (<see cref="IsLost"/>): reads then take what is
/// there, as plain reads do, so a stream this does not understand can never make a read wait for bytes that are not
/// coming.
/// </summary>
internal sealed class TlsRecordFraming
{
    public const int HeaderLength = 5;

    /// <summary>The largest record body TLS 1.2 allows (2^14 + 2048; TLS 1.3's limit, 2^14 + 256, is within it).</summary>
    public const int MaxBodyLength = 16384 + 2048;

    private readonly byte[] _header = new byte[HeaderLength];
    private int _headerHave;
    private int _bodyLeft;

    /// <summary>True once a header was seen that no TLS record has; it stays true.</summary>
    public bool IsLost { get; private set; }

    /// <summary>
    /// The bytes of the current record's body not yet read, at most <paramref name="room"/>: SslStream can do nothing
    /// with fewer, and the peer sent them with the header. 0 at or inside a header, and once lost.
    /// </summary>
    public int BodyLeft(int room) => IsLost ? 0 : Math.Clamp(_bodyLeft, 0, Math.Max(room, 0));

    /// <summary>Follows the records through bytes just read, in order.</summary>
    public void Consumed(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && !IsLost)
        {
            if (_bodyLeft > 0)
            {
                var taken = Math.Min(_bodyLeft, bytes.Length);
                _bodyLeft -= taken;
                bytes = bytes[taken..];
                continue;
            }
            var headerPart = Math.Min(HeaderLength - _headerHave, bytes.Length);
            bytes[..headerPart].CopyTo(_header.AsSpan(_headerHave));
            _headerHave += headerPart;
            bytes = bytes[headerPart..];
            if (_headerHave < HeaderLength) return;
            _headerHave = 0;
            StartBody();
        }
    }

    private void StartBody()
    {
        // ContentType 20-23 (change_cipher_spec, alert, handshake, application_data), legacy version 3.x
        var length = (_header[3] << 8) | _header[4];
        if (_header[0] is < 20 or > 23 || _header[1] != 3 || length > MaxBodyLength) IsLost = true;
        else _bodyLeft = length;
    }
}
