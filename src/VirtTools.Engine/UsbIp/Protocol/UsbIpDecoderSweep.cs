namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// Runs every decoder over the same bytes, for the fuzz harness and the property tests: the codec's own
/// exception is the expected way to refuse input and is swallowed per decoder; anything else escapes.
/// </summary>
internal static class UsbIpDecoderSweep
{
    /// <summary>How many decoders accepted the bytes.</summary>
    public static int DecodeAll(ReadOnlySpan<byte> bytes)
    {
        var accepted = 0;
        Span<UsbIpIsoPacketDescriptor> descriptors = stackalloc UsbIpIsoPacketDescriptor[Math.Min(bytes.Length / UsbIpProtocol.IsoPacketDescriptorSize, 64)];
        accepted += Try(bytes, static b => UsbIpManagementCodec.ReadOpCommon(b[..Math.Min(b.Length, UsbIpProtocol.OpCommonSize)]));
        accepted += Try(bytes, static b => UsbIpManagementCodec.DecodeDeviceListReply(b));
        accepted += Try(bytes, static b => UsbIpManagementCodec.DecodeImportRequest(b));
        accepted += Try(bytes, static b => UsbIpManagementCodec.DecodeImportReply(b));
        accepted += Try(bytes, static b => UsbIpManagementCodec.ReadDevice(b[..Math.Min(b.Length, UsbIpProtocol.DeviceRecordSize)]));
        // The checks a client applies to what it decoded answer with a reason, never an exception.
        accepted += Try(bytes, static b => UsbIpDeviceRecordCheck.FindProblem(UsbIpManagementCodec.ReadDevice(b[..Math.Min(b.Length, UsbIpProtocol.DeviceRecordSize)])));
        accepted += Try(bytes, static b => UsbIpBusIdText.FindProblem(UsbIpManagementCodec.ReadImportRequestBusId(b[..Math.Min(b.Length, UsbIpProtocol.BusIdFieldSize)])));
        accepted += Try(bytes, static b => UsbIpUrbCodec.ReadBasic(b));
        accepted += Try(bytes, static b => UsbIpUrbCodec.ReadSubmitCommand(b));
        accepted += Try(bytes, static b => UsbIpUrbCodec.ReadSubmitReply(b));
        accepted += Try(bytes, static b => UsbIpUrbCodec.ReadUnlinkCommand(b));
        accepted += Try(bytes, static b => UsbIpUrbCodec.ReadUnlinkReply(b));
        try
        {
            UsbIpUrbCodec.ReadIsoPacketDescriptors(bytes, descriptors);
            accepted++;
        }
        catch (UsbIpProtocolException) { }
        return accepted;
    }

    private delegate void Decoder(ReadOnlySpan<byte> bytes);

    private static int Try(ReadOnlySpan<byte> bytes, Decoder decoder)
    {
        try
        {
            decoder(bytes);
            return 1;
        }
        catch (UsbIpProtocolException)
        {
            return 0;
        }
    }
}
