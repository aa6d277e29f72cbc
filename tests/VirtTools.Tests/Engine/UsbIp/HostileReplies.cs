using System.Buffers.Binary;
using System.Text;
using VirtTools.UsbIp.Protocol;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>
/// Replies byte by byte, for a <see cref="HostileServer"/>: a well-formed device record of the fixture's 2-3
/// (46f4:0001, one interface) that a test then spoils one field of, and headers with any version, code and status.
/// </summary>
internal static class HostileReplies
{
    // Offsets inside usbip_usb_device (Documentation/usb/usbip_protocol.rst).
    public const int BusIdOffset = UsbIpProtocol.PathFieldSize;
    public const int BusNumberOffset = 288;
    public const int DeviceNumberOffset = 292;
    public const int SpeedOffset = 296;
    public const int VendorOffset = 300;
    public const int NumInterfacesOffset = 311;

    public static byte[] Header(UsbIpOperation code, uint status = 0, ushort version = UsbIpProtocol.Version)
    {
        var header = new byte[UsbIpProtocol.OpCommonSize];
        BinaryPrimitives.WriteUInt16BigEndian(header, version);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), (ushort)code);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), status);
        return header;
    }

    /// <summary>The 312-byte record of 2-3 as a server sends it, with <paramref name="busId"/> and <paramref name="vendorId"/>.</summary>
    public static byte[] Record(string busId = "2-3", ushort vendorId = 0x46f4)
    {
        var device = UsbIpWireExamples.FixtureDevice;
        var list = new byte[UsbIpManagementCodec.DeviceListReplySize(new[] { device })];
        UsbIpManagementCodec.WriteDeviceListReply(list, new[] { device });
        var record = list.AsSpan(UsbIpManagementCodec.DeviceListReplyHeaderSize, UsbIpProtocol.DeviceRecordSize).ToArray();
        WriteBusId(record, Encoding.ASCII.GetBytes(busId));
        BinaryPrimitives.WriteUInt16BigEndian(record.AsSpan(VendorOffset), vendorId);
        return record;
    }

    /// <summary>The record with its bus id field set to exactly these bytes, NUL-padded when shorter than 32.</summary>
    public static byte[] WriteBusId(byte[] record, byte[] field)
    {
        record.AsSpan(BusIdOffset, UsbIpProtocol.BusIdFieldSize).Clear();
        field.CopyTo(record.AsSpan(BusIdOffset));
        return record;
    }

    /// <summary>The record with its path field set to exactly these bytes, NUL-padded when shorter than 256.</summary>
    public static byte[] WritePath(byte[] record, byte[] field)
    {
        record.AsSpan(0, UsbIpProtocol.PathFieldSize).Clear();
        field.CopyTo(record.AsSpan());
        return record;
    }

    public static byte[] WriteU32(byte[] record, int offset, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(record.AsSpan(offset), value);
        return record;
    }

    /// <summary>OP_REP_DEVLIST announcing <paramref name="count"/> devices (default: as many as given), each followed by the interface records its last byte announces.</summary>
    public static byte[] DeviceList(uint? count, params byte[][] records)
    {
        var reply = new List<byte>(Header(UsbIpOperation.ReplyDeviceList));
        var countBytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(countBytes, count ?? (uint)records.Length);
        reply.AddRange(countBytes);
        foreach (var record in records)
        {
            reply.AddRange(record);
            for (var i = 0; i < record[NumInterfacesOffset]; i++) reply.AddRange(new byte[] { 0x08, 0x06, 0x50, 0x00 });
        }
        return reply.ToArray();
    }

    public static byte[] DeviceList(params byte[][] records) => DeviceList(null, records);

    /// <summary>OP_REP_IMPORT, OK, with this record.</summary>
    public static byte[] Import(byte[] record) => Header(UsbIpOperation.ReplyImport).Concat(record).ToArray();
}
