using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.Tests.Support;
using Xunit;

namespace VirtTools.Tests.Engine.Pci;

/// <summary>Each rule of a shared line, on synthetic trees that carry the kernel's handler names for IRQ 11.</summary>
public sealed class PciIrqShareReaderTests : IDisposable
{
    private readonly TemporaryTree _tree = new("irq-share");

    private IReadOnlyList<PciIrqShare> Lines() => new PciIrqShareReader(new SystemRoot(_tree.Path)).GetLines();

    private void Handlers(int irq, string actions) => _tree.File($"/sys/kernel/irq/{irq}/actions", actions);

    // A conventional PCI header: no PCI 2.3 DisINTx evidence, so the function cannot be trusted to mask INTx.
    private static byte[] Conventional => SyntheticPci.Config(length: 256);

    // PCI Express functions can mask INTx.
    private static byte[] Express => SyntheticPci.Config(length: 4096);

    [Fact]
    public void A_line_with_two_handlers_is_shared()
    {
        Handlers(11, "ehci_hcd:usb3,eth0");
        _tree.Function("0000:05:06.0", config: Express, driver: "ehci-pci");
        _tree.Function("0000:05:07.0", config: Express, driver: "e1000");
        var line = Assert.Single(Lines());
        Assert.True(line.Shared);
        Assert.Equal(new[] { "ehci_hcd:usb3", "eth0" }, line.Handlers);
        Assert.Equal("/sys/kernel/irq/11/actions", line.HandlerSource);
        Assert.Equal(new[] { "0000:05:06.0", "0000:05:07.0" }, line.Users.Select(a => a.ToString()));
        Assert.False(line.Blocks); // both can mask INTx
        Assert.Contains("handlers ehci_hcd:usb3, eth0", line.Reason);
    }

    [Fact]
    public void One_handler_and_a_function_on_MSI_X_is_not_shared_and_the_MSI_function_is_listed_apart()
    {
        Handlers(11, "eth0");
        _tree.Function("0000:05:06.0", config: Conventional, driver: "e1000");
        var xhci = _tree.Function("0000:05:07.0", config: Conventional, driver: "xhci_hcd");
        _tree.Msi(xhci, "msix", 40, 41, 42);
        var line = Assert.Single(Lines());
        Assert.False(line.Shared);
        Assert.False(line.Blocks);
        Assert.Equal(new[] { "0000:05:06.0" }, line.Users.Select(a => a.ToString()));
        Assert.Equal(new[] { "0000:05:07.0" }, line.MsiFunctions.Select(a => a.ToString()));
        Assert.Contains("uses MSI-X (3 vectors in msi_irqs), not the line", line.Reason);
    }

    [Fact]
    public void A_line_with_no_handler_is_neither_shared_nor_blocking()
    {
        Handlers(11, "");
        _tree.Function("0000:05:06.0", config: Conventional);
        _tree.Function("0000:05:07.0", config: Conventional);
        var line = Assert.Single(Lines());
        Assert.Empty(line.Handlers);
        Assert.Empty(line.Users);
        Assert.False(line.Shared);
        Assert.False(line.Blocks);
        Assert.StartsWith("IRQ 11 has no handler (/sys/kernel/irq/11/actions)", line.Reason);
    }

    [Fact]
    public void An_unbound_function_that_cannot_mask_INTx_is_blocked_by_another_function_s_handler()
    {
        Handlers(11, "eth0");
        _tree.Function("0000:05:06.0", config: Conventional);
        _tree.Function("0000:05:07.0", config: Conventional, driver: "e1000");
        var line = Assert.Single(Lines());
        Assert.True(line.Shared); // the unbound one would use INTx on a line eth0 holds
        Assert.True(line.Blocks);
        Assert.Equal(new[] { "0000:05:06.0" }, line.BlockedAddress.Select(a => a.ToString()));
        Assert.Contains("0000:05:06.0 cannot mask INTx", line.Reason);
        Assert.Equal(1, CountOf(line.Reason, "IRQ 11")); // said once, no repetition
    }

    [Fact]
    public void An_unbound_function_that_can_mask_INTx_shares_the_line_without_blocking()
    {
        Handlers(11, "eth0");
        _tree.Function("0000:05:06.0", config: Express);
        _tree.Function("0000:05:07.0", config: Express, driver: "e1000e");
        var line = Assert.Single(Lines());
        Assert.True(line.Shared);
        Assert.False(line.Blocks);
    }

    [Fact]
    public void A_function_alone_on_its_line_with_its_own_handler_blocks_nothing()
    {
        Handlers(11, "eth0");
        _tree.Function("0000:05:07.0", config: Conventional, driver: "e1000");
        var line = Assert.Single(Lines());
        Assert.False(line.Shared);
        Assert.False(line.Blocks);
    }

    [Fact]
    public void Handlers_come_from_proc_interrupts_when_sys_kernel_irq_is_missing()
    {
        _tree.File("/proc/interrupts", "           CPU0       CPU1\n  0:         45          0   IO-APIC   2-edge      timer\n"
            + " 11:          0       1234   IO-APIC  11-fasteoi   uhci_hcd:usb1, eth1\nNMI:          0          0   Non-maskable interrupts\n");
        _tree.Function("0000:05:06.0", config: Conventional);
        var line = Assert.Single(Lines());
        Assert.Equal(new[] { "uhci_hcd:usb1", "eth1" }, line.Handlers);
        Assert.Equal("/proc/interrupts IRQ 11", line.HandlerSource);
        Assert.True(line.Blocks);
    }

    [Fact]
    public void Without_irq_files_the_handlers_are_inferred_from_the_drivers_and_say_so()
    {
        _tree.Function("0000:05:06.0", config: Conventional);
        _tree.Function("0000:05:07.0", config: Conventional, driver: "e1000");
        var line = Assert.Single(Lines());
        Assert.Equal(new[] { "e1000" }, line.Handlers);
        Assert.StartsWith("inferred from drivers", line.HandlerSource);
        Assert.True(line.Blocks);
    }

    [Fact]
    public void An_idle_vfio_function_holds_no_handler()
    {
        Handlers(11, "");
        _tree.Function("0000:05:06.0", config: Conventional);
        _tree.Function("0000:05:07.0", config: Conventional, driver: "vfio-pci", enable: 0);
        var line = Assert.Single(Lines());
        Assert.Empty(line.Users);
        Assert.False(line.Blocks);
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
    public void The_real_proc_interrupts_of_this_machine_parse_to_what_sys_kernel_irq_says()
    {
        if (!Directory.Exists("/sys/kernel/irq") || !File.Exists("/proc/interrupts")) return; // nothing to compare here
        var fromProc = KernelIrqHandlers.ParseProcInterrupts(File.ReadAllText("/proc/interrupts"));
        foreach (var dir in Directory.GetDirectories("/sys/kernel/irq"))
        {
            var irq = int.Parse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture);
            var actions = File.Exists(dir + "/actions") ? File.ReadAllText(dir + "/actions").Trim() : "";
            if (actions.Contains(' ', StringComparison.Ordinal)) continue; // a name with a space cannot round-trip through the column
            var expected = actions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            // /proc/interrupts lists only IRQs with a handler or an allocated descriptor; compare those it lists.
            if (fromProc.On(irq).Count == 0 && expected.Length == 0) continue;
            Assert.Equal(expected, fromProc.On(irq));
        }
    }

    [Fact]
    public void On_this_machine_each_line_s_handlers_are_what_its_actions_file_says()
    {
        foreach (var line in new PciIrqShareReader(SystemRoot.Live).GetLines())
        {
            var actions = $"/sys/kernel/irq/{line.Irq}/actions";
            if (!File.Exists(actions)) continue; // a kernel before 4.11: /proc/interrupts, compared above
            Assert.Equal(File.ReadAllText(actions).Trim().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), line.Handlers);
            if (line.Handlers.Length > 1) Assert.True(line.Shared, line.Reason);
        }
    }

    [Fact]
    public void The_captured_ich9_functions_on_irq_10_are_not_shared_as_no_driver_holds_the_line()
    {
        var lines = new PciIrqShareReader(new SystemRoot(CapturedFixture.Shared)).GetLines();
        Assert.Equal(new[] { 10, 21, 22, 23 }, lines.Select(l => l.Irq));
        var line10 = Assert.Single(lines, l => l.Irq == 10);
        Assert.Equal(new[] { "0000:00:1f.2", "0000:00:1f.3" }, line10.Address.Select(a => a.ToString()));
        Assert.Empty(line10.Handlers);
        Assert.False(line10.Shared);
        Assert.False(line10.Blocks);
    }

    private static int CountOf(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    public void Dispose() => _tree.Dispose();
}
