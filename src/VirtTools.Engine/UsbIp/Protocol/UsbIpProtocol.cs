namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// Constants of the kernel's USB/IP protocol (Documentation/usb/usbip_protocol.rst, tools/usb/usbip/src/usbip_network.h)
/// and the limits this codec puts on every length a peer controls, checked before anything is allocated.
/// </summary>
public static class UsbIpProtocol
{
    /// <summary>USB/IP v1.1.1, the only version the kernel's tools accept.</summary>
    public const ushort Version = 0x0111;

    public const int DefaultTcpPort = 3240;

    /// <summary>op_common: u16 version, u16 code, u32 status.</summary>
    public const int OpCommonSize = 8;

    /// <summary>usbip_usb_device, packed: path[256], busid[32], 3 × u32, 3 × u16, 6 × u8.</summary>
    public const int DeviceRecordSize = 312;

    /// <summary>usbip_usb_interface: class, subclass, protocol, padding.</summary>
    public const int InterfaceRecordSize = 4;

    /// <summary>SYSFS_PATH_MAX: the path field, NUL included.</summary>
    public const int PathFieldSize = 256;

    /// <summary>SYSFS_BUS_ID_SIZE: the busid field, NUL included.</summary>
    public const int BusIdFieldSize = 32;

    /// <summary>The u32 device count after OP_REP_DEVLIST's op_common.</summary>
    public const int DeviceCountSize = 4;

    /// <summary>Every URB-level header (usbip_header): 20 bytes basic + a 28-byte union.</summary>
    public const int UrbHeaderSize = 48;

    /// <summary>usbip_iso_packet_descriptor: offset, length, actual_length, status.</summary>
    public const int IsoPacketDescriptorSize = 16;

    /// <summary>
    /// The most devices one OP_REP_DEVLIST may announce. usbcore numbers at most 63 buses (USB_MAXBUS 64) of 127
    /// addresses, 8001 devices; twice that leaves room for kernels with a raised CONFIG_USB_MAXBUS while capping
    /// what a hostile server can make a client read at about 16384 × (312 + 32 × 4) bytes ≈ 7 MB.
    /// </summary>
    public const uint MaxDevices = 16384;

    /// <summary>USB_MAXINTERFACES: a configuration has at most 32 interfaces, whatever the u8 field could hold.</summary>
    public const byte MaxInterfaces = 32;

    /// <summary>
    /// The largest transfer buffer of one URB. Linux bounds what userspace may have in flight at usbfs_memory_mb
    /// (16 MiB by default) and in-kernel drivers stay far below it (usb-storage: max_sectors × 512, ≤ a few MiB);
    /// a larger length is a broken or hostile peer, not a transfer.
    /// </summary>
    public const int MaxTransferBufferLength = 16 * 1024 * 1024;

    /// <summary>
    /// The most iso packets of one URB. usbfs accepts at most 128 per URB; 1024 (128 ms of high-speed
    /// microframes × 8) leaves room for in-kernel drivers while bounding the descriptor block at 16 KiB.
    /// </summary>
    public const int MaxIsoPackets = 1024;

    /// <summary>number_of_packets of a non-iso URB as the rst documents it; Linux vhci sends 0. Both are accepted.</summary>
    public const int NonIsoPacketCount = -1;
}
