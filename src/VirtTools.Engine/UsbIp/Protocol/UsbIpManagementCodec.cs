using VirtTools.Usb;

namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// The management messages (device list and import), each connection carries one request and its reply.
/// Writers fill a caller's buffer; readers take exactly one message or one fixed-size piece of it, so a client
/// can read a reply from a socket piece by piece and bound every count before it reads what the count announces.
/// </summary>
public static class UsbIpManagementCodec
{
    public const int ImportRequestSize = UsbIpProtocol.OpCommonSize + UsbIpProtocol.BusIdFieldSize;
    public const int ImportReplySize = UsbIpProtocol.OpCommonSize + UsbIpProtocol.DeviceRecordSize;
    public const int DeviceListReplyHeaderSize = UsbIpProtocol.OpCommonSize + UsbIpProtocol.DeviceCountSize;

    public static int WriteOpCommon(Span<byte> destination, UsbIpOperation code, UsbIpReplyStatus status)
    {
        var writer = new WireWriter(destination);
        writer.U16(UsbIpProtocol.Version);
        writer.U16((ushort)code);
        writer.U32((uint)status);
        return writer.Position;
    }

    /// <summary>Reads the 8-byte header; a version other than 1.1.1 is refused as the kernel's tools do.</summary>
    public static UsbIpOpCommon ReadOpCommon(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source, "USB/IP header");
        var header = new UsbIpOpCommon(reader.U16(), (UsbIpOperation)reader.U16(), (UsbIpReplyStatus)reader.U32());
        reader.End();
        if (header.Version != UsbIpProtocol.Version)
            throw new UsbIpProtocolException(UsbIpProtocolException.VersionMismatch,
                $"The peer speaks USB/IP version {header.Version >> 8:x}.{(header.Version >> 4) & 0xf:x}.{header.Version & 0xf:x} (0x{header.Version:x4}); only 1.1.1 (0x0111) is understood.");
        return header;
    }

    /// <summary>Reads a header and insists on the operation the conversation is at.</summary>
    public static UsbIpOpCommon ReadOpCommon(ReadOnlySpan<byte> source, UsbIpOperation expected)
    {
        var header = ReadOpCommon(source);
        if (header.Code != expected)
            throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected,
                $"Expected {expected} (0x{(ushort)expected:x4}) but the peer sent operation 0x{(ushort)header.Code:x4}.");
        return header;
    }

    public static int WriteDeviceListRequest(Span<byte> destination) =>
        WriteOpCommon(destination, UsbIpOperation.RequestDeviceList, UsbIpReplyStatus.Ok);

    public static int WriteImportRequest(Span<byte> destination, string busId)
    {
        var writer = new WireWriter(destination);
        WriteOpCommon(writer.Take(UsbIpProtocol.OpCommonSize), UsbIpOperation.RequestImport, UsbIpReplyStatus.Ok);
        writer.FixedString(busId, UsbIpProtocol.BusIdFieldSize, "busid");
        return writer.Position;
    }

    /// <summary>The busid field that follows OP_REQ_IMPORT's header.</summary>
    public static string ReadImportRequestBusId(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source, "import request");
        var busId = reader.FixedString(UsbIpProtocol.BusIdFieldSize);
        reader.End();
        return busId;
    }

    /// <summary>A whole OP_REQ_IMPORT message: its busid.</summary>
    public static string DecodeImportRequest(ReadOnlySpan<byte> message)
    {
        var reader = new WireReader(message, "import request");
        ReadOpCommon(reader.Take(UsbIpProtocol.OpCommonSize), UsbIpOperation.RequestImport);
        var busId = reader.FixedString(UsbIpProtocol.BusIdFieldSize);
        reader.End();
        return busId;
    }

    public static int DeviceListReplySize(IReadOnlyList<UsbIpDeviceRecord> devices)
    {
        var size = DeviceListReplyHeaderSize;
        foreach (var device in devices) size += UsbIpProtocol.DeviceRecordSize + device.NumInterfaces * UsbIpProtocol.InterfaceRecordSize;
        return size;
    }

    public static int WriteDeviceListReply(Span<byte> destination, IReadOnlyList<UsbIpDeviceRecord> devices)
    {
        var writer = new WireWriter(destination);
        WriteOpCommon(writer.Take(UsbIpProtocol.OpCommonSize), UsbIpOperation.ReplyDeviceList, UsbIpReplyStatus.Ok);
        writer.U32((uint)devices.Count);
        foreach (var device in devices)
        {
            if (device.Interfaces.Count != device.NumInterfaces)
                throw new ArgumentException($"Device {device.BusId} announces {device.NumInterfaces} interfaces but has {device.Interfaces.Count} records.", nameof(devices));
            WriteDevice(ref writer, device);
            foreach (var item in device.Interfaces)
            {
                writer.U8(item.Class);
                writer.U8(item.SubClass);
                writer.U8(item.Protocol);
                writer.U8(0);
            }
        }
        return writer.Position;
    }

    /// <summary>The u32 device count after OP_REP_DEVLIST's header, bounded by <see cref="UsbIpProtocol.MaxDevices"/>.</summary>
    public static int ReadDeviceCount(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source, "device count");
        var count = reader.U32();
        reader.End();
        if (count > UsbIpProtocol.MaxDevices)
            throw new UsbIpProtocolException(UsbIpProtocolException.LimitExceeded,
                $"The server announces {count} devices; more than {UsbIpProtocol.MaxDevices} cannot be a real USB/IP server.");
        return (int)count;
    }

    /// <summary>
    /// One 312-byte usbip_usb_device, without interfaces. bNumInterfaces is bounded here, before a caller reads
    /// the interface records it announces.
    /// </summary>
    public static UsbIpDeviceRecord ReadDevice(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source, "device record");
        var record = ReadDevice(ref reader, Array.Empty<UsbIpInterfaceRecord>());
        reader.End();
        return record;
    }

    /// <summary>One 4-byte usbip_usb_interface (the padding byte is ignored, as the kernel does).</summary>
    public static UsbIpInterfaceRecord ReadInterface(ReadOnlySpan<byte> source)
    {
        var reader = new WireReader(source, "interface record");
        var record = new UsbIpInterfaceRecord(reader.U8(), reader.U8(), reader.U8());
        reader.U8();
        reader.End();
        return record;
    }

    /// <summary>A whole OP_REP_DEVLIST message: header, count, devices and their interfaces, nothing after.</summary>
    public static IReadOnlyList<UsbIpDeviceRecord> DecodeDeviceListReply(ReadOnlySpan<byte> message)
    {
        var reader = new WireReader(message, "device list reply");
        var header = ReadOpCommon(reader.Take(UsbIpProtocol.OpCommonSize), UsbIpOperation.ReplyDeviceList);
        RequireOk(header);
        var count = ReadDeviceCount(reader.Take(UsbIpProtocol.DeviceCountSize));
        // Every device takes at least 312 bytes: a count the message cannot hold is refused before the list is sized.
        if ((long)count * UsbIpProtocol.DeviceRecordSize > reader.Remaining)
            throw new UsbIpProtocolException(UsbIpProtocolException.Truncated,
                $"The device list reply announces {count} devices but carries only {reader.Remaining} bytes of records.");
        var devices = new List<UsbIpDeviceRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var device = ReadDevice(reader.Take(UsbIpProtocol.DeviceRecordSize));
            var interfaces = new UsbIpInterfaceRecord[device.NumInterfaces];
            for (var j = 0; j < interfaces.Length; j++) interfaces[j] = ReadInterface(reader.Take(UsbIpProtocol.InterfaceRecordSize));
            devices.Add(WithInterfaces(device, interfaces));
        }
        reader.End();
        return devices;
    }

    /// <summary>The record as read, with the interface records that followed it.</summary>
    public static UsbIpDeviceRecord WithInterfaces(UsbIpDeviceRecord device, IReadOnlyList<UsbIpInterfaceRecord> interfaces) => new()
    {
        Path = device.Path, BusId = device.BusId, BusNumber = device.BusNumber, DeviceNumber = device.DeviceNumber,
        Speed = device.Speed, VendorId = device.VendorId, ProductId = device.ProductId, BcdDevice = device.BcdDevice,
        DeviceClass = device.DeviceClass, DeviceSubClass = device.DeviceSubClass, DeviceProtocol = device.DeviceProtocol,
        ConfigurationValue = device.ConfigurationValue, NumConfigurations = device.NumConfigurations,
        NumInterfaces = device.NumInterfaces, Interfaces = interfaces,
    };

    /// <summary>OP_REP_IMPORT: the header, and the device record when the status is OK.</summary>
    public static int WriteImportReply(Span<byte> destination, UsbIpReplyStatus status, UsbIpDeviceRecord? device)
    {
        var writer = new WireWriter(destination);
        WriteOpCommon(writer.Take(UsbIpProtocol.OpCommonSize), UsbIpOperation.ReplyImport, status);
        if (status == UsbIpReplyStatus.Ok)
            WriteDevice(ref writer, device ?? throw new ArgumentNullException(nameof(device), "A successful import reply carries the device."));
        return writer.Position;
    }

    /// <summary>A whole OP_REP_IMPORT: the status, and the device when it is OK.</summary>
    public static (UsbIpReplyStatus Status, UsbIpDeviceRecord? Device) DecodeImportReply(ReadOnlySpan<byte> message)
    {
        var reader = new WireReader(message, "import reply");
        var header = ReadOpCommon(reader.Take(UsbIpProtocol.OpCommonSize), UsbIpOperation.ReplyImport);
        if (header.Status != UsbIpReplyStatus.Ok)
        {
            reader.End();
            return (header.Status, null);
        }
        var device = ReadDevice(reader.Take(UsbIpProtocol.DeviceRecordSize));
        reader.End();
        return (header.Status, device);
    }

    private static void RequireOk(UsbIpOpCommon header)
    {
        if (header.Status != UsbIpReplyStatus.Ok)
            throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected,
                $"The device list reply carries the error status {(uint)header.Status}.");
    }

    private static void WriteDevice(ref WireWriter writer, UsbIpDeviceRecord device)
    {
        writer.FixedString(device.Path, UsbIpProtocol.PathFieldSize, "path");
        writer.FixedString(device.BusId, UsbIpProtocol.BusIdFieldSize, "busid");
        writer.U32(device.BusNumber);
        writer.U32(device.DeviceNumber);
        writer.U32((uint)device.Speed);
        writer.U16(device.VendorId);
        writer.U16(device.ProductId);
        writer.U16(device.BcdDevice);
        writer.U8(device.DeviceClass);
        writer.U8(device.DeviceSubClass);
        writer.U8(device.DeviceProtocol);
        writer.U8(device.ConfigurationValue);
        writer.U8(device.NumConfigurations);
        writer.U8(device.NumInterfaces);
    }

    private static UsbIpDeviceRecord ReadDevice(ref WireReader reader, IReadOnlyList<UsbIpInterfaceRecord> interfaces)
    {
        var record = new UsbIpDeviceRecord
        {
            Path = reader.FixedString(UsbIpProtocol.PathFieldSize),
            BusId = reader.FixedString(UsbIpProtocol.BusIdFieldSize),
            BusNumber = reader.U32(),
            DeviceNumber = reader.U32(),
            Speed = (UsbSpeed)reader.U32(),
            VendorId = reader.U16(),
            ProductId = reader.U16(),
            BcdDevice = reader.U16(),
            DeviceClass = reader.U8(),
            DeviceSubClass = reader.U8(),
            DeviceProtocol = reader.U8(),
            ConfigurationValue = reader.U8(),
            NumConfigurations = reader.U8(),
            NumInterfaces = reader.U8(),
            Interfaces = interfaces,
        };
        if (record.NumInterfaces > UsbIpProtocol.MaxInterfaces)
            throw new UsbIpProtocolException(UsbIpProtocolException.LimitExceeded,
                $"Device {record.BusId} announces {record.NumInterfaces} interfaces; USB allows at most {UsbIpProtocol.MaxInterfaces}.");
        return record;
    }
}
