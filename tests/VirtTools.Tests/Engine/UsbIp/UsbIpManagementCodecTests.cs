using VirtTools.Usb;
using VirtTools.UsbIp.Protocol;
using Xunit;
using static VirtTools.Tests.Engine.UsbIp.UsbIpWireExamples;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class UsbIpManagementCodecTests
{
    [Fact]
    public void Device_list_request_is_version_0111_code_8005_status_0()
    {
        var buffer = new byte[8];
        Assert.Equal(8, UsbIpManagementCodec.WriteDeviceListRequest(buffer));
        Assert.Equal(Hex("0111 8005 00000000"), buffer);
    }

    [Fact]
    public void Import_request_carries_the_busid_NUL_padded_to_32_bytes()
    {
        var buffer = new byte[UsbIpManagementCodec.ImportRequestSize];
        Assert.Equal(40, UsbIpManagementCodec.WriteImportRequest(buffer, "2-3"));
        Assert.Equal(Hex("0111 8003 00000000").Concat(Field("2-3", 32)), buffer);
        Assert.Equal("2-3", UsbIpManagementCodec.DecodeImportRequest(buffer));
    }

    [Fact]
    public void Device_list_reply_of_the_fixture_device_is_byte_exact()
    {
        var expected = Hex("0111 0005 00000000 00000001")
            .Concat(Field(FixturePath, 256)).Concat(Field("2-3", 32))
            .Concat(Hex("00000002 00000002 00000005 46f4 0001 0000 00 00 00 01 01 01 08065000")).ToArray();
        Assert.Equal(12 + 312 + 4, expected.Length);
        var devices = new[] { FixtureDevice };
        var buffer = new byte[UsbIpManagementCodec.DeviceListReplySize(devices)];
        Assert.Equal(expected.Length, UsbIpManagementCodec.WriteDeviceListReply(buffer, devices));
        Assert.Equal(expected, buffer);
    }

    [Fact]
    public void Device_list_reply_decodes_every_field_and_interface()
    {
        var devices = new[] { FixtureDevice };
        var buffer = new byte[UsbIpManagementCodec.DeviceListReplySize(devices)];
        UsbIpManagementCodec.WriteDeviceListReply(buffer, devices);
        var device = Assert.Single(UsbIpManagementCodec.DecodeDeviceListReply(buffer));
        Assert.Equal(FixturePath, device.Path);
        Assert.Equal("2-3", device.BusId);
        Assert.Equal(0x00020002u, device.DeviceId);
        Assert.Equal(UsbSpeed.Super, device.Speed);
        Assert.Equal((ushort)0x46f4, device.VendorId);
        Assert.Equal(new UsbIpInterfaceRecord(8, 6, 0x50), Assert.Single(device.Interfaces));
    }

    [Fact]
    public void Empty_device_list_reply_is_twelve_bytes()
    {
        var buffer = new byte[12];
        Assert.Equal(12, UsbIpManagementCodec.WriteDeviceListReply(buffer, Array.Empty<UsbIpDeviceRecord>()));
        Assert.Equal(Hex("0111 0005 00000000 00000000"), buffer);
        Assert.Empty(UsbIpManagementCodec.DecodeDeviceListReply(buffer));
    }

    [Fact]
    public void Import_reply_puts_the_busid_at_offset_0x108_and_error_replies_are_eight_bytes()
    {
        var buffer = new byte[UsbIpManagementCodec.ImportReplySize];
        Assert.Equal(320, UsbIpManagementCodec.WriteImportReply(buffer, UsbIpReplyStatus.Ok, FixtureDevice));
        Assert.Equal(Field("2-3", 32), buffer[0x108..0x128]);
        var (status, device) = UsbIpManagementCodec.DecodeImportReply(buffer);
        Assert.Equal(UsbIpReplyStatus.Ok, status);
        Assert.Equal((byte)1, device!.NumInterfaces);
        Assert.Empty(device.Interfaces);

        Assert.Equal(8, UsbIpManagementCodec.WriteImportReply(buffer, UsbIpReplyStatus.DeviceBusy, null));
        Assert.Equal(Hex("0111 0003 00000002"), buffer[..8]);
        Assert.Equal((UsbIpReplyStatus.DeviceBusy, (UsbIpDeviceRecord?)null), UsbIpManagementCodec.DecodeImportReply(buffer.AsSpan(0, 8)));
    }

    [Fact]
    public void Another_protocol_version_is_refused_with_its_own_error_id()
    {
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpManagementCodec.ReadOpCommon(Hex("0106 8005 00000000")));
        Assert.Equal(UsbIpProtocolException.VersionMismatch, error.ErrorId);
    }

    [Fact]
    public void A_device_count_beyond_the_limit_is_refused_before_anything_is_read()
    {
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpManagementCodec.ReadDeviceCount(Hex("ffffffff")));
        Assert.Equal(UsbIpProtocolException.LimitExceeded, error.ErrorId);
    }

    [Fact]
    public void A_device_count_the_message_cannot_hold_is_a_truncated_message()
    {
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpManagementCodec.DecodeDeviceListReply(Hex("0111 0005 00000000 00003000")));
        Assert.Equal(UsbIpProtocolException.Truncated, error.ErrorId);
    }

    [Fact]
    public void More_than_32_interfaces_is_refused()
    {
        var record = new byte[312];
        record[311] = 33;
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpManagementCodec.ReadDevice(record));
        Assert.Equal(UsbIpProtocolException.LimitExceeded, error.ErrorId);
    }

    [Fact]
    public void Bytes_after_the_last_field_are_a_malformed_message()
    {
        var error = Assert.Throws<UsbIpProtocolException>(() => UsbIpManagementCodec.DecodeDeviceListReply(Hex("0111 0005 00000000 00000000 00")));
        Assert.Equal(UsbIpProtocolException.Malformed, error.ErrorId);
    }

    [Fact]
    public void A_busid_that_fills_its_whole_field_is_read_without_overrun()
    {
        var full = Enumerable.Repeat((byte)'1', 32).ToArray();
        Assert.Equal(new string('1', 32), UsbIpManagementCodec.ReadImportRequestBusId(full));
    }

    [Theory]
    [InlineData(UsbIpReplyStatus.NotAvailable, "UsbIpDeviceNotAvailable", "allow-list")]
    [InlineData(UsbIpReplyStatus.DeviceBusy, "UsbIpDeviceBusy", "already imported")]
    [InlineData(UsbIpReplyStatus.DeviceError, "UsbIpDeviceError", "error state")]
    [InlineData(UsbIpReplyStatus.NoDevice, "UsbIpDeviceNotFound", "has no device 2-3")]
    [InlineData(UsbIpReplyStatus.Error, "UsbIpServerError", "failed")]
    public void Every_error_status_becomes_a_message_a_person_understands(UsbIpReplyStatus status, string errorId, string phrase)
    {
        var failure = UsbIpReplyStatusMessages.ToFailure(status, "server1", "2-3");
        Assert.Equal(errorId, failure.ErrorId);
        Assert.Contains(phrase, failure.Message);
        Assert.DoesNotContain("Request Failed", failure.Message);
        Assert.False(string.IsNullOrWhiteSpace(failure.RecommendedAction));
    }
}
