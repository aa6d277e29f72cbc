using System.Buffers.Binary;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// The 8 setup bytes of a control transfer, kept exactly as they travel. They are raw USB (little-endian
/// wValue/wIndex/wLength) and, unlike every other field of the protocol, never byte-swapped.
/// </summary>
public readonly record struct UsbIpSetupPacket(ulong RawLittleEndian)
{
    public const int Size = 8;

    public static UsbIpSetupPacket FromBytes(ReadOnlySpan<byte> bytes) => new(BinaryPrimitives.ReadUInt64LittleEndian(bytes));

    public static UsbIpSetupPacket Create(byte requestType, byte request, ushort value, ushort index, ushort length) =>
        new(requestType | ((ulong)request << 8) | ((ulong)value << 16) | ((ulong)index << 32) | ((ulong)length << 48));

    public void CopyTo(Span<byte> destination) => BinaryPrimitives.WriteUInt64LittleEndian(destination, RawLittleEndian);

    public byte RequestType => (byte)RawLittleEndian;
    public byte Request => (byte)(RawLittleEndian >> 8);
    public ushort Value => (ushort)(RawLittleEndian >> 16);
    public ushort Index => (ushort)(RawLittleEndian >> 32);
    public ushort Length => (ushort)(RawLittleEndian >> 48);
}
