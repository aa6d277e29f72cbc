using System.Buffers.Binary;
using System.Text;

namespace VirtTools.UsbIp.Protocol;

/// <summary>Big-endian reads from a received message; running out of bytes is a truncated message.</summary>
internal ref struct WireReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly string _what;

    public WireReader(ReadOnlySpan<byte> buffer, string what)
    {
        _buffer = buffer;
        _what = what;
        Position = 0;
    }

    public int Position { get; private set; }

    public int Remaining => _buffer.Length - Position;

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
            throw new UsbIpProtocolException(UsbIpProtocolException.Truncated,
                $"The {_what} is truncated: {count} more bytes were expected at offset {Position}, {Remaining} arrived.");
        var slice = _buffer.Slice(Position, count);
        Position += count;
        return slice;
    }

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public int S32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    /// <summary>
    /// A fixed-size char[] field: the text up to its first NUL (or the whole field when a peer filled it), one char
    /// per byte (Latin-1), so nothing a peer sent is lost or grows on the way: a field with no NUL comes out one
    /// character too long, and bytes that are not ASCII stay visible for <see cref="UsbIpDeviceRecordCheck"/> and
    /// <see cref="UsbIpBusIdText"/> to refuse.
    /// </summary>
    public string FixedString(int size)
    {
        var field = Take(size);
        var end = field.IndexOf((byte)0);
        return Encoding.Latin1.GetString(end < 0 ? field : field[..end]);
    }

    /// <summary>A message must be exactly as long as its fields: extra bytes mean we misread the peer.</summary>
    public void End()
    {
        if (Remaining != 0)
            throw new UsbIpProtocolException(UsbIpProtocolException.Malformed,
                $"The {_what} has {Remaining} unexpected bytes after its last field.");
    }
}
