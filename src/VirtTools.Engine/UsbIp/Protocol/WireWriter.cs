using System.Buffers.Binary;
using System.Text;

namespace VirtTools.UsbIp.Protocol;

/// <summary>Big-endian writes into a caller's buffer, which must be large enough (the sizes are fixed by the protocol).</summary>
internal ref struct WireWriter
{
    private readonly Span<byte> _buffer;

    public WireWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        Position = 0;
    }

    public int Position { get; private set; }

    public Span<byte> Take(int count)
    {
        if (count > _buffer.Length - Position)
            throw new ArgumentException($"The buffer is too small: {Position + count} bytes are needed.");
        var slice = _buffer.Slice(Position, count);
        Position += count;
        return slice;
    }

    public void U8(byte value) => Take(1)[0] = value;
    public void U16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Take(2), value);
    public void U32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Take(4), value);
    public void S32(int value) => BinaryPrimitives.WriteInt32BigEndian(Take(4), value);
    public void Zeros(int count) => Take(count).Clear();

    /// <summary>A char[size] field, NUL-padded; the text must leave room for the terminating NUL.</summary>
    public void FixedString(string text, int size, string field)
    {
        var target = Take(size);
        target.Clear();
        if (Encoding.UTF8.GetByteCount(text) > size - 1)
            throw new ArgumentException($"The {field} '{text}' does not fit the protocol's {size}-byte field.", field);
        Encoding.UTF8.GetBytes(text, target);
    }
}
