# Get-UsbIpCapacity and Test-VirtHost -MinimumFreePorts in real pwsh, on a copy of the captured 6.1 tree: every number
# is checked against the kernel files the copy holds, read here with plain PowerShell.
BeforeAll {
    . "$PSScriptRoot/Common.ps1"
    Import-Module $ModuleManifest -Force
    $root = New-FixtureCopy
    $vhci0 = "$root/sys/devices/platform/vhci_hcd.0"
    # The status rows of every controller, as arrays of fields: hub port sta ...
    $rows = foreach ($file in Get-ChildItem $vhci0 -File -Filter 'status*') {
        Get-Content $file | Select-Object -Skip 1 | ForEach-Object { , (-split $_) }
    }
}
AfterAll { Remove-FixtureCopy $root }

Describe 'Get-UsbIpCapacity' {
    It 'writes HighSpeed then SuperSpeed, each counted from the status rows of its hub' {
        $capacity = Get-UsbIpCapacity -Root $root
        $capacity.Hub | Should -Be 'HighSpeed', 'SuperSpeed'
        foreach ($speed in $capacity) {
            $hub = if ($speed.Hub -eq 'HighSpeed') { 'hs' } else { 'ss' }
            $ofHub = @($rows | Where-Object { $_[0] -eq $hub })
            $speed.Ports | Should -Be $ofHub.Count
            $speed.Free | Should -Be @($ofHub | Where-Object { $_[2] -eq '004' }).Count
            $speed.InUse | Should -Be @($ofHub | Where-Object { $_[2] -eq '006' }).Count
        }
    }

    It 'counts the controllers from vhci_hcd.N and agrees with nports' {
        $speed = (Get-UsbIpCapacity -Root $root)[0]
        $speed.Controllers | Should -Be @(Get-ChildItem "$root/sys/devices/platform" -Directory -Filter 'vhci_hcd.*').Count
        $speed.KernelPortCount | Should -Be ([int] (Get-Content "$vhci0/nports"))
        $speed.Controllers * $speed.PortsPerController * 2 | Should -Be $speed.KernelPortCount
    }

    It 'takes the bus limit from the physical usbN buses of sys/bus/usb/devices' {
        $physical = @(Get-ChildItem "$root/sys/bus/usb/devices" -Filter 'usb*' | Where-Object { $_.LinkTarget -notmatch '/vhci_hcd\.' }).Count
        $speed = (Get-UsbIpCapacity -Root $root)[0]
        $speed.PhysicalBuses | Should -Be $physical
        $speed.MaxControllers | Should -Be ([math]::Floor((63 - $physical) / 2))
    }

    It 'plans 400 desktops: the capture cannot hold them, 27 controllers of 15 ports can' {
        $high = Get-UsbIpCapacity -Desktops 400 -Root $root | Where-Object Hub -eq 'HighSpeed'
        $high.CanHold | Should -BeFalse
        $high.Needs.KernelConfig | Should -Be 'CONFIG_USBIP_VHCI_HC_PORTS=15', 'CONFIG_USBIP_VHCI_NR_HCS=27'
    }

    It 'reads the build options from boot/config of the release in proc' {
        New-Item -ItemType Directory "$root/proc/sys/kernel", "$root/boot" -Force | Out-Null
        try {
            Set-Content "$root/proc/sys/kernel/osrelease" '6.1.0-99-amd64'
            Set-Content "$root/boot/config-6.1.0-99-amd64" "CONFIG_USBIP_VHCI_HC_PORTS=15`nCONFIG_USBIP_VHCI_NR_HCS=8"
            $speed = (Get-UsbIpCapacity -Root $root)[0]
            $speed.ConfiguredControllers, $speed.ConfiguredPortsPerController | Should -Be 8, 15
        }
        finally { Remove-Item "$root/proc", "$root/boot" -Recurse -Force }
    }

    It 'refuses -DevicesPerDesktop 0 before reading anything' {
        { Get-UsbIpCapacity -Desktops 1 -DevicesPerDesktop 0 -Root $root } | Should -Throw -ErrorId 'ParameterArgumentValidationError,VirtTools.Commands.Usb.GetUsbIpCapacityCommand'
    }
}

Describe 'Test-VirtHost -MinimumFreePorts' {
    It 'warns for the speed whose free ports fall under the threshold' {
        $checks = Test-VirtHost -Area USBIP -MinimumFreePorts 120 -Root $root
        ($checks | Where-Object Name -eq 'vhci_hcd SuperSpeed ports free').Result | Should -Be 'Warn'
        ($checks | Where-Object Name -eq 'vhci_hcd HighSpeed ports free').Result | Should -Be 'Pass'
    }
}
