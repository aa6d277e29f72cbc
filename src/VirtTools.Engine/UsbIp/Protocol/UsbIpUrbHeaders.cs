namespace VirtTools.UsbIp.Protocol;

/// <summary>usbip_header_basic: the first 20 bytes of every URB-level header. Replies carry devid, direction and ep as 0.</summary>
public readonly record struct UsbIpHeaderBasic(UsbIpCommand Command, uint SequenceNumber, uint DeviceId, UsbIpDirection Direction, uint Endpoint);

/// <summary>
/// USBIP_CMD_SUBMIT. <see cref="NumberOfPackets"/> keeps the value as sent: 0 or -1 (0xFFFFFFFF) for a non-iso
/// transfer, both accepted; <see cref="IsoPacketCount"/> is what follows on the wire.
/// </summary>
public readonly record struct UsbIpSubmitCommand(
    UsbIpHeaderBasic Basic, uint TransferFlags, int TransferBufferLength, int StartFrame, int NumberOfPackets, int Interval,
    UsbIpSetupPacket Setup)
{
    public int IsoPacketCount => NumberOfPackets == UsbIpProtocol.NonIsoPacketCount ? 0 : NumberOfPackets;

    /// <summary>Bytes after the header: the OUT data, then the iso packet descriptors.</summary>
    public int PayloadLength => (Basic.Direction == UsbIpDirection.Out ? TransferBufferLength : 0)
        + IsoPacketCount * UsbIpProtocol.IsoPacketDescriptorSize;
}

/// <summary>USBIP_RET_SUBMIT. <see cref="Status"/> is a negative Linux errno (-32 EPIPE is a stall) or 0.</summary>
public readonly record struct UsbIpSubmitReply(
    UsbIpHeaderBasic Basic, int Status, int ActualLength, int StartFrame, int NumberOfPackets, int ErrorCount)
{
    public int IsoPacketCount => NumberOfPackets == UsbIpProtocol.NonIsoPacketCount ? 0 : NumberOfPackets;

    /// <summary>
    /// Bytes after the header. The reply's own direction field is 0, so the caller gives the direction of the
    /// command it answers: IN data (actual_length, iso packets packed without gaps), then the iso descriptors.
    /// </summary>
    public int PayloadLength(UsbIpDirection commandDirection) => (commandDirection == UsbIpDirection.In ? ActualLength : 0)
        + IsoPacketCount * UsbIpProtocol.IsoPacketDescriptorSize;
}

/// <summary>USBIP_CMD_UNLINK: cancel the submit whose sequence number is <see cref="UnlinkSequenceNumber"/>.</summary>
public readonly record struct UsbIpUnlinkCommand(UsbIpHeaderBasic Basic, uint UnlinkSequenceNumber);

/// <summary>USBIP_RET_UNLINK: -104 (ECONNRESET) when the URB was cancelled, 0 when it had already completed.</summary>
public readonly record struct UsbIpUnlinkReply(UsbIpHeaderBasic Basic, int Status);

/// <summary>usbip_iso_packet_descriptor.</summary>
public readonly record struct UsbIpIsoPacketDescriptor(uint Offset, uint Length, uint ActualLength, int Status);
