using VirtTools.Usb;
using CsCheck;
using VirtTools.UsbIp.Protocol;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Round trips of every message type, and arbitrary bytes never break the decoders in any other way.</summary>
public sealed class UsbIpCodecPropertyTests
{
    private const long Iterations = 2000;

    private static readonly Gen<string> BusIds = Gen.Char["0123456789-.:"].Array[1, 31].Select(c => new string(c));
    private static readonly Gen<string> Paths = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789/:.-_"].Array[0, 255].Select(c => new string(c));
    private static readonly Gen<UsbIpInterfaceRecord> Interfaces = Gen.Select(Gen.Byte, Gen.Byte, Gen.Byte).Select(t => new UsbIpInterfaceRecord(t.Item1, t.Item2, t.Item3));
    private static readonly Gen<UsbIpDirection> Directions = Gen.OneOfConst(UsbIpDirection.Out, UsbIpDirection.In);
    private static readonly Gen<int> PacketCounts = Gen.Int[-1, UsbIpProtocol.MaxIsoPackets];
    private static readonly Gen<int> Lengths = Gen.Int[0, UsbIpProtocol.MaxTransferBufferLength];

    private static readonly Gen<UsbIpDeviceRecord> Devices =
        Gen.Select(Paths, BusIds, Gen.UInt, Gen.UInt, Gen.UInt[0, 6], Gen.UShort, Gen.UShort, Gen.UShort)
            .SelectMany(t => Gen.Select(Gen.Byte.Array[6], Interfaces.Array[0, UsbIpProtocol.MaxInterfaces]).Select(u => new UsbIpDeviceRecord
            {
                Path = t.Item1, BusId = t.Item2, BusNumber = t.Item3, DeviceNumber = t.Item4, Speed = (UsbSpeed)t.Item5,
                VendorId = t.Item6, ProductId = t.Item7, BcdDevice = t.Rest.Item1,
                DeviceClass = u.Item1[0], DeviceSubClass = u.Item1[1], DeviceProtocol = u.Item1[2],
                ConfigurationValue = u.Item1[3], NumConfigurations = u.Item1[4],
                NumInterfaces = (byte)u.Item2.Length, Interfaces = u.Item2,
            }));

    private static Gen<UsbIpHeaderBasic> Basics(UsbIpCommand command) =>
        Gen.Select(Gen.UInt, Gen.UInt, Directions, Gen.UInt[0, 15]).Select(t => new UsbIpHeaderBasic(command, t.Item1, t.Item2, t.Item3, t.Item4));

    [Fact]
    public void Device_list_replies_round_trip()
    {
        Devices.Array[0, 4].Sample(devices =>
        {
            var buffer = new byte[UsbIpManagementCodec.DeviceListReplySize(devices)];
            Assert.Equal(buffer.Length, UsbIpManagementCodec.WriteDeviceListReply(buffer, devices));
            var decoded = UsbIpManagementCodec.DecodeDeviceListReply(buffer);
            Assert.Equal(devices.Length, decoded.Count);
            for (var i = 0; i < devices.Length; i++) AssertSameDevice(devices[i], decoded[i], withInterfaces: true);
        }, iter: Iterations / 4);
    }

    [Fact]
    public void Import_requests_and_replies_round_trip()
    {
        Gen.Select(BusIds, Devices, Gen.UInt[0, 5]).Sample((busId, device, status) =>
        {
            var request = new byte[UsbIpManagementCodec.ImportRequestSize];
            UsbIpManagementCodec.WriteImportRequest(request, busId);
            Assert.Equal(busId, UsbIpManagementCodec.DecodeImportRequest(request));

            var reply = new byte[UsbIpManagementCodec.ImportReplySize];
            var length = UsbIpManagementCodec.WriteImportReply(reply, (UsbIpReplyStatus)status, device);
            var (decodedStatus, decoded) = UsbIpManagementCodec.DecodeImportReply(reply.AsSpan(0, length));
            Assert.Equal((UsbIpReplyStatus)status, decodedStatus);
            if (status == 0) AssertSameDevice(device, decoded!, withInterfaces: false);
            else Assert.Null(decoded);
        }, iter: Iterations);
    }

    [Fact]
    public void Submit_commands_round_trip()
    {
        Gen.Select(Basics(UsbIpCommand.Submit), Gen.UInt, Lengths, Gen.Int, PacketCounts, Gen.Int, Gen.ULong)
            .Select(t => new UsbIpSubmitCommand(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, new UsbIpSetupPacket(t.Item7)))
            .Sample(command =>
            {
                var buffer = new byte[48];
                UsbIpUrbCodec.WriteSubmitCommand(buffer, command);
                Assert.Equal(command, UsbIpUrbCodec.ReadSubmitCommand(buffer));
            }, iter: Iterations);
    }

    [Fact]
    public void Submit_replies_round_trip()
    {
        Gen.Select(Basics(UsbIpCommand.SubmitReply), Gen.Int, Lengths, Gen.Int, PacketCounts)
            .SelectMany(t => Gen.Int[0, Math.Max(t.Item5, 0)].Select(errors => new UsbIpSubmitReply(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, errors)))
            .Sample(reply =>
            {
                var buffer = new byte[48];
                UsbIpUrbCodec.WriteSubmitReply(buffer, reply);
                Assert.Equal(reply, UsbIpUrbCodec.ReadSubmitReply(buffer));
            }, iter: Iterations);
    }

    [Fact]
    public void Unlink_commands_and_replies_round_trip()
    {
        Gen.Select(Basics(UsbIpCommand.Unlink), Gen.UInt, Basics(UsbIpCommand.UnlinkReply), Gen.Int).Sample((basic, seqnum, replyBasic, status) =>
        {
            var buffer = new byte[48];
            var command = new UsbIpUnlinkCommand(basic, seqnum);
            UsbIpUrbCodec.WriteUnlinkCommand(buffer, command);
            Assert.Equal(command, UsbIpUrbCodec.ReadUnlinkCommand(buffer));
            var reply = new UsbIpUnlinkReply(replyBasic, status);
            UsbIpUrbCodec.WriteUnlinkReply(buffer, reply);
            Assert.Equal(reply, UsbIpUrbCodec.ReadUnlinkReply(buffer));
        }, iter: Iterations);
    }

    [Fact]
    public void Iso_packet_descriptors_round_trip()
    {
        Gen.Select(Gen.UInt[0, UsbIpProtocol.MaxTransferBufferLength], Gen.UInt[0, UsbIpProtocol.MaxTransferBufferLength], Gen.Int)
            .SelectMany(t => Gen.UInt[0, t.Item2].Select(actual => new UsbIpIsoPacketDescriptor(t.Item1, t.Item2, actual, t.Item3)))
            .Array[0, 64].Sample(descriptors =>
            {
                var buffer = new byte[descriptors.Length * 16];
                UsbIpUrbCodec.WriteIsoPacketDescriptors(buffer, descriptors);
                var read = new UsbIpIsoPacketDescriptor[descriptors.Length];
                UsbIpUrbCodec.ReadIsoPacketDescriptors(buffer, read);
                Assert.Equal(descriptors, read);
            }, iter: Iterations / 4);
    }

    [Fact]
    public void Arbitrary_bytes_never_throw_anything_but_the_codec_exception()
    {
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            UsbIpDecoderSweep.DecodeAll(bytes);
        }, iter: Iterations * 5);
    }

    [Fact]
    public void Valid_messages_with_flipped_bytes_never_throw_anything_but_the_codec_exception()
    {
        var devices = new[] { UsbIpWireExamples.FixtureDevice, UsbIpWireExamples.FixtureDevice };
        var valid = new byte[UsbIpManagementCodec.DeviceListReplySize(devices)];
        UsbIpManagementCodec.WriteDeviceListReply(valid, devices);
        Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte, Gen.Int[0, valid.Length]).Sample((position, value, cut) =>
        {
            var bytes = valid[..cut];
            if (position < bytes.Length) bytes[position] = value;
            UsbIpDecoderSweep.DecodeAll(bytes);
        }, iter: Iterations * 5);
    }

    private static void AssertSameDevice(UsbIpDeviceRecord expected, UsbIpDeviceRecord actual, bool withInterfaces)
    {
        Assert.Equal((expected.Path, expected.BusId, expected.BusNumber, expected.DeviceNumber, expected.Speed, expected.VendorId, expected.ProductId, expected.BcdDevice),
            (actual.Path, actual.BusId, actual.BusNumber, actual.DeviceNumber, actual.Speed, actual.VendorId, actual.ProductId, actual.BcdDevice));
        Assert.Equal((expected.DeviceClass, expected.DeviceSubClass, expected.DeviceProtocol, expected.ConfigurationValue, expected.NumConfigurations, expected.NumInterfaces),
            (actual.DeviceClass, actual.DeviceSubClass, actual.DeviceProtocol, actual.ConfigurationValue, actual.NumConfigurations, actual.NumInterfaces));
        Assert.Equal(withInterfaces ? expected.Interfaces : Array.Empty<UsbIpInterfaceRecord>(), actual.Interfaces);
    }
}
