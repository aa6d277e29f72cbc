using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

public sealed class PciIrqShareReaderTests : IDisposable
{
    private readonly TemporaryTree _tree = new("irq-share");

    private IReadOnlyList<PciIrqShare> Lines() => new PciIrqShareReader(new SystemRoot(_tree.Path)).GetLines();

    [Fact]
    public void A_sharer_without_msi_or_masking_is_blocked_while_another_driver_holds_the_line()
    {
        // 05:06.0: conventional PCI, masking unknown, no driver. 05:07.0: e1000 on the line with INTx.
        _tree.Function("0000:05:06.0", config: SyntheticPci.Config(length: 256));
        _tree.Function("0000:05:07.0", config: SyntheticPci.Config(length: 256), driver: "e1000");
        var line = Assert.Single(Lines());
        Assert.Equal(11, line.Irq);
        Assert.True(line.IsShared);
        Assert.True(line.BlocksPassthrough);
        Assert.Contains("0000:05:06.0", line.BlockedAddress);
        Assert.Contains("e1000", line.Reason);
    }

    [Fact]
    public void A_line_is_not_blocking_when_the_other_sharer_uses_msi()
    {
        _tree.Function("0000:05:06.0", config: SyntheticPci.Config(length: 256));
        var other = _tree.Function("0000:05:07.0", config: SyntheticPci.Config(length: 256), driver: "e1000");
        _tree.Msi(other, "msi", 50);
        var line = Assert.Single(Lines());
        Assert.True(line.IsShared);
        Assert.False(line.BlocksPassthrough);
        Assert.Contains("uses MSI", line.Reason);
    }

    [Fact]
    public void A_sharer_that_can_mask_intx_is_never_blocked()
    {
        _tree.Function("0000:05:06.0", config: SyntheticPci.Config(length: 4096));
        _tree.Function("0000:05:07.0", config: SyntheticPci.Config(length: 4096), driver: "e1000e");
        Assert.False(Assert.Single(Lines()).BlocksPassthrough);
    }

    [Fact]
    public void An_idle_vfio_sharer_does_not_hold_the_line()
    {
        _tree.Function("0000:05:06.0", config: SyntheticPci.Config(length: 256));
        _tree.Function("0000:05:07.0", config: SyntheticPci.Config(length: 256), driver: "vfio-pci", enable: 0);
        Assert.False(Assert.Single(Lines()).BlocksPassthrough);
    }

    [Fact]
    public void Functions_without_a_pin_or_hidden_behind_msi_are_on_no_line()
    {
        _tree.Function("0000:05:06.0", config: SyntheticPci.Config(pin: 0));
        var msi = _tree.Function("0000:05:07.0", irq: 60, config: SyntheticPci.Config());
        _tree.Msi(msi, "msi", 60);
        Assert.Empty(Lines());
    }

    [Fact]
    public void The_captured_ich9_functions_share_irq_10_without_blocking()
    {
        var lines = new PciIrqShareReader(new SystemRoot(CapturedFixture.Shared)).GetLines();
        Assert.Equal(new[] { 10, 21, 22, 23 }, lines.Select(l => l.Irq));
        var shared = Assert.Single(lines, l => l.IsShared);
        Assert.Equal(new[] { "0000:00:1f.2", "0000:00:1f.3" }, shared.Address);
        Assert.False(shared.BlocksPassthrough); // neither has a driver holding the line
    }

    public void Dispose() => _tree.Dispose();
}
