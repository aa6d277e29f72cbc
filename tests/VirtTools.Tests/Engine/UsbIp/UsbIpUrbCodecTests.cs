using VirtTools.UsbIp.Protocol;
using Xunit;
using static VirtTools.Tests.Engine.UsbIp.UsbIpWireExamples;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpUrbCodecTests
{
    // GET_DESCRIPTOR(DEVICE), 18 bytes, on endpoint 0 of device 2-2: what vhci sends first after attach.
    private static readonly UsbIpSubmitCommand GetDeviceDescriptor = new(
        new UsbIpHeaderBasic(UsbIpCommand.Submit, 1, 0x00020002, UsbIpDirection.In, 0),
        TransferFlags: 0x200, TransferBufferLength: 18, StartFrame: 0, NumberOfPackets: 0, Interval: 0,
        UsbIpSetupPacket.Create(0x80, 0x06, 0x0100, 0x0000, 18));

    [Fact]
    public void Submit_command_is_big_endian_except_the_setup_bytes()
    {
        var buffer = new byte[48];
        Assert.Equal(48, UsbIpUrbCodec.WriteSubmitCommand(buffer, GetDeviceDescriptor));
        Assert.Equal(Hex("00000001 00000001 00020002 00000001 00000000 00000200 00000012 00000000 00000000 00000000 8006000100001200"), buffer);
    }

    [Fact]
    public void Setup_bytes_are_read_as_raw_little_endian_usb()
    {
        var buffer = new byte[48];
        UsbIpUrbCodec.WriteSubmitCommand(buffer, GetDeviceDescriptor);
        var setup = UsbIpUrbCodec.ReadSubmitCommand(buffer).Setup;
        Assert.Equal((0x80, 0x06, 0x0100, 0, 18), (setup.RequestType, setup.Request, setup.Value, setup.Index, setup.Length));
    }

    [Fact]
    public void Submit_reply_with_stall_status_is_byte_exact()
    {
        var reply = new UsbIpSubmitReply(new UsbIpHeaderBasic(UsbIpCommand.SubmitReply, 7, 0, UsbIpDirection.Out, 0), -32, 0, 0, 0, 0);
        var buffer = new byte[48];
        UsbIpUrbCodec.WriteSubmitReply(buffer, reply);
        Assert.Equal(Hex("00000003 00000007 00000000 00000000 00000000 ffffffe0 00000000 00000000 00000000 00000000 0000000000000000"), buffer);
        Assert.Equal(reply, UsbIpUrbCodec.ReadSubmitReply(buffer));
    }

    [Fact]
    public void Unlink_command_and_reply_are_byte_exact()
    {
        var buffer = new byte[48];
        UsbIpUrbCodec.WriteUnlinkCommand(buffer, new UsbIpUnlinkCommand(new UsbIpHeaderBasic(UsbIpCommand.Unlink, 9, 0x00020002, UsbIpDirection.Out, 0), 5));
        Assert.Equal(Hex("00000002 00000009 00020002 00000000 00000000 00000005").Concat(new byte[24]), buffer);
        UsbIpUrbCodec.WriteUnlinkReply(buffer, new UsbIpUnlinkReply(new UsbIpHeaderBasic(UsbIpCommand.UnlinkReply, 9, 0, UsbIpDirection.Out, 0), -104));
        Assert.Equal(Hex("00000004 00000009 00000000 00000000 00000000 ffffff98").Concat(new byte[24]), buffer);
    }

    [Fact]
    public void Iso_packet_descriptors_are_sixteen_bytes_each()
    {
        var descriptors = new[] { new UsbIpIsoPacketDescriptor(0, 192, 188, 0), new UsbIpIsoPacketDescriptor(192, 192, 0, -18) };
        var buffer = new byte[32];
        Assert.Equal(32, UsbIpUrbCodec.WriteIsoPacketDescriptors(buffer, descriptors));
        Assert.Equal(Hex("00000000 000000c0 000000bc 00000000 000000c0 000000c0 00000000 ffffffee"), buffer);
        var read = new UsbIpIsoPacketDescriptor[2];
        UsbIpUrbCodec.ReadIsoPacketDescriptors(buffer, read);
        Assert.Equal(descriptors, read);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Non_iso_submits_with_0_or_0xFFFFFFFF_packets_carry_no_descriptors(int numberOfPackets)
    {
        var buffer = new byte[48];
        var bulkOut = GetDeviceDescriptor with
        {
            Basic = GetDeviceDescriptor.Basic with { Direction = UsbIpDirection.Out, Endpoint = 2 },
            TransferBufferLength = 512, NumberOfPackets = numberOfPackets,
        };
        UsbIpUrbCodec.WriteSubmitCommand(buffer, bulkOut);
        var read = UsbIpUrbCodec.ReadSubmitCommand(buffer);
        Assert.Equal(numberOfPackets, read.NumberOfPackets);
        Assert.Equal(0, read.IsoPacketCount);
        Assert.Equal(512, read.PayloadLength);
    }

    [Fact]
    public void In_reply_payload_is_the_actual_length_then_the_descriptors()
    {
        var reply = new UsbIpSubmitReply(new UsbIpHeaderBasic(UsbIpCommand.SubmitReply, 1, 0, UsbIpDirection.Out, 0), 0, 376, 0, 2, 0);
        Assert.Equal(376 + 32, reply.PayloadLength(UsbIpDirection.In));
        Assert.Equal(32, reply.PayloadLength(UsbIpDirection.Out));
    }

    [Theory]
    [InlineData("transfer", UsbIpProtocolException.LimitExceeded)]
    [InlineData("packets", UsbIpProtocolException.LimitExceeded)]
    [InlineData("direction", UsbIpProtocolException.Malformed)]
    [InlineData("endpoint", UsbIpProtocolException.Malformed)]
    [InlineData("command", UsbIpProtocolException.Unexpected)]
    public void Nonsensical_submit_fields_are_refused(string field, string errorId)
    {
        var buffer = new byte[48];
        UsbIpUrbCodec.WriteSubmitCommand(buffer, GetDeviceDescriptor);
        var offset = field switch { "transfer" => 0x18, "packets" => 0x20, "direction" => 0x0c, "endpoint" => 0x10, _ => 0 };
        buffer[offset] = 0x7f;
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpUrbCodec.ReadSubmitCommand(buffer));
        Assert.Equal(errorId, error.ErrorId);
    }

    [Fact]
    public void A_short_header_is_a_truncated_message()
    {
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpUrbCodec.ReadBasic(new byte[47]));
        Assert.Equal(UsbIpProtocolException.Truncated, error.ErrorId);
    }

    [Fact]
    public void Reading_and_writing_a_submit_allocates_nothing()
    {
        var buffer = new byte[48];
        UsbIpUrbCodec.WriteSubmitCommand(buffer, GetDeviceDescriptor);
        UsbIpUrbCodec.ReadSubmitCommand(buffer);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            UsbIpUrbCodec.WriteSubmitCommand(buffer, GetDeviceDescriptor);
            _ = UsbIpUrbCodec.ReadSubmitCommand(buffer);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
