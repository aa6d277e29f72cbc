using VirtTools.Usb;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Vhci;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

public sealed class VhciStatusRowTests
{
    [Fact]
    public void A_current_kernel_row_in_use_gives_every_column()
    {
        var row = Assert.Single(VhciStatusRow.Parse("hub port sta spd dev      sockfd local_busid\nss  0015 006 005 00020002 000003 4-1\n"));
        Assert.Equal(new VhciStatusRow(VhciHub.SuperSpeed, 15, 6, 5, 0x00020002, 3, UsbBusId.Parse("4-1")), row);
    }

    [Fact]
    public void A_free_row_has_no_device_columns()
    {
        var row = Assert.Single(VhciStatusRow.Parse("hs  0003 004 000 00000000 000000 0-0"));
        Assert.Equal(new VhciStatusRow(VhciHub.HighSpeed, 3, 4, null, null, null, null), row);
    }

    [Fact]
    public void A_not_ready_row_with_sixteen_zeros_for_the_socket_parses()
    {
        var row = Assert.Single(VhciStatusRow.Parse("hs  0030 005 000 00000000 0000000000000000 0-0"));
        Assert.Equal((30, (int)UsbIpPortStatus.NotAssigned), (row.Port, row.StatusCode));
    }

    [Fact]
    public void An_older_kernel_row_without_a_hub_column_and_with_a_socket_pointer_parses()
    {
        var rows = VhciStatusRow.Parse(
            "prt sta spd bus dev socket           local_busid\n" +
            "000 006 003 00010004 ffff88003d2a6a80 3-1\n" +
            "001 004 000 000 000 0000000000000000 0-0\n");
        Assert.Equal(new VhciStatusRow(null, 0, 6, 3, 0x00010004, null, UsbBusId.Parse("3-1")), rows[0]);
        Assert.Equal(new VhciStatusRow(null, 1, 4, null, null, null, null), rows[1]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("hub port sta spd dev      sockfd local_busid")]
    [InlineData("ss  00x5 006 005 00020002 000003 4-1")]
    [InlineData("\u0000\u0001 garbage")]
    [InlineData("hs")]
    public void Headers_and_garbage_lines_are_skipped(string text) => Assert.Empty(VhciStatusRow.Parse(text));
}
