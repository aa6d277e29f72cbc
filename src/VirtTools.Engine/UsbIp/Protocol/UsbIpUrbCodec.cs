namespace VirtTools.UsbIp.Protocol;

/// <summary>
/// The URB-level messages that follow a successful import: 48-byte headers as structs, iso packet descriptors
/// into the caller's span. Nothing here allocates on the success path, so a device backend can run a transfer
/// loop over pooled buffers. Readers take the first 48 bytes of their input (the payload may follow in the same
/// buffer); the payload's length comes from the header and is bounded before anyone reads it.
/// </summary>
public static class UsbIpUrbCodec
{
    private const int BasicSize = 20;
    private const int MaxEndpoint = 15;

    /// <summary>The basic header of any URB-level message, to learn which message it is.</summary>
    public static UsbIpHeaderBasic ReadBasic(ReadOnlySpan<byte> source)
    {
        var reader = HeaderReader(source, "URB header");
        return ReadBasic(ref reader);
    }

    public static UsbIpSubmitCommand ReadSubmitCommand(ReadOnlySpan<byte> source)
    {
        var reader = HeaderReader(source, "CMD_SUBMIT header");
        var basic = Expect(ReadBasic(ref reader), UsbIpCommand.Submit);
        var command = new UsbIpSubmitCommand(basic, reader.U32(), reader.S32(), reader.S32(), reader.S32(), reader.S32(),
            UsbIpSetupPacket.FromBytes(reader.Take(UsbIpSetupPacket.Size)));
        CheckLength(command.TransferBufferLength, "transfer_buffer_length");
        CheckPacketCount(command.NumberOfPackets);
        return command;
    }

    public static UsbIpSubmitReply ReadSubmitReply(ReadOnlySpan<byte> source)
    {
        var reader = HeaderReader(source, "RET_SUBMIT header");
        var basic = Expect(ReadBasic(ref reader), UsbIpCommand.SubmitReply);
        var reply = new UsbIpSubmitReply(basic, reader.S32(), reader.S32(), reader.S32(), reader.S32(), reader.S32());
        CheckLength(reply.ActualLength, "actual_length");
        CheckPacketCount(reply.NumberOfPackets);
        if (reply.ErrorCount < 0 || reply.ErrorCount > Math.Max(reply.IsoPacketCount, 0))
            throw Malformed($"error_count {reply.ErrorCount} does not fit the {reply.IsoPacketCount} iso packets of the reply.");
        return reply;
    }

    public static UsbIpUnlinkCommand ReadUnlinkCommand(ReadOnlySpan<byte> source)
    {
        var reader = HeaderReader(source, "CMD_UNLINK header");
        var basic = Expect(ReadBasic(ref reader), UsbIpCommand.Unlink);
        return new UsbIpUnlinkCommand(basic, reader.U32());
    }

    public static UsbIpUnlinkReply ReadUnlinkReply(ReadOnlySpan<byte> source)
    {
        var reader = HeaderReader(source, "RET_UNLINK header");
        var basic = Expect(ReadBasic(ref reader), UsbIpCommand.UnlinkReply);
        return new UsbIpUnlinkReply(basic, reader.S32());
    }

    /// <summary>Fills <paramref name="destination"/> (sized by the header's packet count) from the descriptor block.</summary>
    public static void ReadIsoPacketDescriptors(ReadOnlySpan<byte> source, Span<UsbIpIsoPacketDescriptor> destination)
    {
        if (destination.Length > UsbIpProtocol.MaxIsoPackets)
            throw new UsbIpProtocolException(UsbIpProtocolException.LimitExceeded,
                $"{destination.Length} iso packets exceed the limit of {UsbIpProtocol.MaxIsoPackets}.");
        var reader = new WireReader(source, "iso packet descriptors");
        for (var i = 0; i < destination.Length; i++)
        {
            var descriptor = new UsbIpIsoPacketDescriptor(reader.U32(), reader.U32(), reader.U32(), reader.S32());
            if (descriptor.Offset > UsbIpProtocol.MaxTransferBufferLength || descriptor.Length > UsbIpProtocol.MaxTransferBufferLength
                || descriptor.ActualLength > descriptor.Length)
                throw Malformed($"iso packet {i} (offset {descriptor.Offset}, length {descriptor.Length}, actual {descriptor.ActualLength}) is out of range.");
            destination[i] = descriptor;
        }
    }

    public static int WriteSubmitCommand(Span<byte> destination, in UsbIpSubmitCommand command)
    {
        var writer = new WireWriter(destination);
        WriteBasic(ref writer, command.Basic with { Command = UsbIpCommand.Submit });
        writer.U32(command.TransferFlags);
        writer.S32(command.TransferBufferLength);
        writer.S32(command.StartFrame);
        writer.S32(command.NumberOfPackets);
        writer.S32(command.Interval);
        command.Setup.CopyTo(writer.Take(UsbIpSetupPacket.Size));
        return writer.Position;
    }

    public static int WriteSubmitReply(Span<byte> destination, in UsbIpSubmitReply reply)
    {
        var writer = new WireWriter(destination);
        WriteBasic(ref writer, reply.Basic with { Command = UsbIpCommand.SubmitReply });
        writer.S32(reply.Status);
        writer.S32(reply.ActualLength);
        writer.S32(reply.StartFrame);
        writer.S32(reply.NumberOfPackets);
        writer.S32(reply.ErrorCount);
        writer.Zeros(UsbIpSetupPacket.Size);
        return writer.Position;
    }

    public static int WriteUnlinkCommand(Span<byte> destination, in UsbIpUnlinkCommand command)
    {
        var writer = new WireWriter(destination);
        WriteBasic(ref writer, command.Basic with { Command = UsbIpCommand.Unlink });
        writer.U32(command.UnlinkSequenceNumber);
        writer.Zeros(UsbIpProtocol.UrbHeaderSize - writer.Position);
        return writer.Position;
    }

    public static int WriteUnlinkReply(Span<byte> destination, in UsbIpUnlinkReply reply)
    {
        var writer = new WireWriter(destination);
        WriteBasic(ref writer, reply.Basic with { Command = UsbIpCommand.UnlinkReply });
        writer.S32(reply.Status);
        writer.Zeros(UsbIpProtocol.UrbHeaderSize - writer.Position);
        return writer.Position;
    }

    public static int WriteIsoPacketDescriptors(Span<byte> destination, ReadOnlySpan<UsbIpIsoPacketDescriptor> descriptors)
    {
        var writer = new WireWriter(destination);
        foreach (var descriptor in descriptors)
        {
            writer.U32(descriptor.Offset);
            writer.U32(descriptor.Length);
            writer.U32(descriptor.ActualLength);
            writer.S32(descriptor.Status);
        }
        return writer.Position;
    }

    private static WireReader HeaderReader(ReadOnlySpan<byte> source, string what)
    {
        if (source.Length < UsbIpProtocol.UrbHeaderSize)
            throw new UsbIpProtocolException(UsbIpProtocolException.Truncated,
                $"The {what} is truncated: {UsbIpProtocol.UrbHeaderSize} bytes were expected, {source.Length} arrived.");
        return new WireReader(source[..UsbIpProtocol.UrbHeaderSize], what);
    }

    private static UsbIpHeaderBasic ReadBasic(ref WireReader reader)
    {
        var basic = new UsbIpHeaderBasic((UsbIpCommand)reader.U32(), reader.U32(), reader.U32(), (UsbIpDirection)reader.U32(), reader.U32());
        if (basic.Command is < UsbIpCommand.Submit or > UsbIpCommand.UnlinkReply)
            throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected, $"Unknown USB/IP command 0x{(uint)basic.Command:x8}.");
        if (basic.Direction is not (UsbIpDirection.Out or UsbIpDirection.In))
            throw Malformed($"direction {(uint)basic.Direction} is neither 0 (OUT) nor 1 (IN).");
        if (basic.Endpoint > MaxEndpoint)
            throw Malformed($"endpoint {basic.Endpoint} does not exist: USB has endpoints 0 to {MaxEndpoint}.");
        return basic;
    }

    private static void WriteBasic(ref WireWriter writer, in UsbIpHeaderBasic basic)
    {
        writer.U32((uint)basic.Command);
        writer.U32(basic.SequenceNumber);
        writer.U32(basic.DeviceId);
        writer.U32((uint)basic.Direction);
        writer.U32(basic.Endpoint);
    }

    private static UsbIpHeaderBasic Expect(UsbIpHeaderBasic basic, UsbIpCommand expected) => basic.Command == expected
        ? basic
        : throw new UsbIpProtocolException(UsbIpProtocolException.Unexpected, $"Expected {expected} but the peer sent {basic.Command}.");

    private static void CheckLength(int length, string field)
    {
        if (length is < 0 or > UsbIpProtocol.MaxTransferBufferLength)
            throw new UsbIpProtocolException(UsbIpProtocolException.LimitExceeded,
                $"{field} {length} is outside 0..{UsbIpProtocol.MaxTransferBufferLength}.");
    }

    private static void CheckPacketCount(int count)
    {
        if (count != UsbIpProtocol.NonIsoPacketCount && count is < 0 or > UsbIpProtocol.MaxIsoPackets)
            throw new UsbIpProtocolException(UsbIpProtocolException.LimitExceeded,
                $"number_of_packets {count} is neither a non-iso marker (0 or 0xFFFFFFFF) nor 1..{UsbIpProtocol.MaxIsoPackets}.");
    }

    private static UsbIpProtocolException Malformed(string detail) =>
        new(UsbIpProtocolException.Malformed, "Malformed USB/IP message: " + detail);
}
