# Density on the real vhci_hcd (issue 16): as many desktops as the kernel's build holds (every free port of both
# speeds) attach at once through the engine's own attach path (VhciAttacher with its TCP importer, one task each),
# against a loopback USB/IP server in this script that answers each import with a device of the bus id asked for and
# then keeps the link silent: usbip-host exports 16 devices at most (MAX_BUSID), so it cannot serve 240. Then half of
# them leave (detaches in parallel runspaces) while as many new ones arrive, then all leave. One LAB-BENCH line per
# phase (bench/RESULTS.md): time, placed, refused, ports given twice, leaked ports and records.
# 240 concurrent attaches and as many detaches took 256-292 s on a loaded TCG guest, near the default 300 s:
# lab-timeout: 600
. "$PSScriptRoot/_Lab.ps1"
Initialize-LabUsbIp
$deadline = [TimeSpan]::FromSeconds(150) # bounds every phase; a quiet TCG guest needs seconds
# The guest kills a scenario after 300 s: placing and removing 240 took 83 and 55 s on a TCG guest sharing 2 cores
# with another, so the middle phase runs only while the scenario has used less than this.
$churnBudget = [TimeSpan]::FromSeconds(110)
$scenarioClock = [Diagnostics.Stopwatch]::StartNew()

$rows = @(Get-LabVhciRow)
$freeHigh = @($rows | Where-Object { $_[0] -eq 'hs' -and $_[2] -eq '004' }).Count
$freeSuper = @($rows | Where-Object { $_[0] -eq 'ss' -and $_[2] -eq '004' }).Count
$total = $freeHigh + $freeSuper
Assert-Lab ($freeHigh -gt 0 -and $freeSuper -gt 0) "kernel: vhci_hcd has $freeHigh high-speed and $freeSuper SuperSpeed ports free"

$listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
$listener.Start(1024)
$tcpPort = $listener.LocalEndpoint.Port
$held = [Collections.Generic.List[object]]::new()
# Desktop N imports a device on bus 9 behind hubs of 15 ports (9-1.1 ... 9-1.15, 9-2.1 ...: a port number is at most 255);
# the first $freeHigh are high-speed devices (USB_SPEED_HIGH 3), the rest SuperSpeed (5).
$speedOf = @{}
$numberOf = @{}
function Get-LabDesktopBusId([int] $Number) { "9-$([math]::Floor(($Number - 1) / 15) + 1).$((($Number - 1) % 15) + 1)" }

# OP_REP_IMPORT (USB/IP 1.1.1, status 0) and the 312-byte device record, big-endian, as usbipd sends them.
function New-LabImportReply([string] $BusId, [int] $Number, [int] $Speed) {
    $reply = [byte[]]::new(320)
    $reply[0] = 0x01; $reply[1] = 0x11; $reply[3] = 0x03
    $path = [Text.Encoding]::ASCII.GetBytes("/sys/devices/lab/$BusId")
    [Array]::Copy($path, 0, $reply, 8, $path.Length)
    $bus = [Text.Encoding]::ASCII.GetBytes($BusId)
    [Array]::Copy($bus, 0, $reply, 264, $bus.Length)
    $reply[299] = 9                                                         # busnum
    $reply[302] = ($Number -shr 8) -band 0xff; $reply[303] = $Number -band 0xff # devnum
    $reply[307] = $Speed
    $reply[308] = 0x1d; $reply[309] = 0x6b; $reply[310] = 0x01; $reply[311] = 0x04 # 1d6b:0104
    $reply[312] = 0x01; $reply[317] = 1; $reply[318] = 1                    # bcdDevice 1.00, configuration 1 of 1
    return $reply
}

# Answers import requests until $Count were answered or every task ended; the connections stay open (silent devices).
function Invoke-LabServe([int] $Count, [object[]] $Tasks, [Diagnostics.Stopwatch] $Clock) {
    $served = 0
    while ($served -lt $Count -and $Clock.Elapsed -lt $deadline) {
        if (-not $listener.Pending()) {
            if (@($Tasks | Where-Object { -not $_.IsCompleted }).Count -eq 0) { break }
            [Threading.Thread]::Sleep(2)
            continue
        }
        $client = $listener.AcceptTcpClient()
        $held.Add($client)
        $stream = $client.GetStream()
        $stream.ReadTimeout = 20000
        $request = [byte[]]::new(40)
        $got = 0
        while ($got -lt 40) { $n = $stream.Read($request, $got, 40 - $got); if ($n -le 0) { break }; $got += $n }
        if ($got -lt 40) { continue }
        $busId = [Text.Encoding]::ASCII.GetString($request, 8, 32).TrimEnd([char]0)
        $number = $numberOf[$busId]
        if ($null -eq $number) { continue }
        $reply = New-LabImportReply $busId $number $speedOf[$number]
        $stream.Write($reply, 0, $reply.Length)
        $served++
    }
}

# Desktops $From..$From+$Count-1 attach at once: the tasks are started before the server answers any of them.
function Invoke-LabArrive([int] $From, [int] $Count, [int[]] $Speed) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $tasks = for ($i = 0; $i -lt $Count; $i++) {
        $speedOf[$From + $i] = $Speed[$i]
        $busId = Get-LabDesktopBusId ($From + $i)
        $numberOf[$busId] = $From + $i
        $attacher.ConnectAsync('127.0.0.1', $tcpPort, [VirtTools.Usb.UsbBusId]::Parse($busId), $deadline, [Threading.CancellationToken]::None, $null, $null)
    }
    Invoke-LabServe $Count $tasks $clock
    while (@($tasks | Where-Object { -not $_.IsCompleted }).Count -gt 0 -and $clock.Elapsed -lt $deadline) { [Threading.Thread]::Sleep(20) }
    $elapsed = $clock.Elapsed
    $placed = @($tasks | Where-Object { $_.IsCompletedSuccessfully } | ForEach-Object { $_.Result })
    $refused = @($tasks | Where-Object { $_.IsFaulted } | ForEach-Object { "$($_.Exception.InnerException.ErrorId)" })
    $pending = @($tasks | Where-Object { -not $_.IsCompleted }).Count
    return [pscustomobject]@{ Elapsed = $elapsed; Placed = $placed; Refused = $refused; Pending = $pending
        Twice = $placed.Count - @($placed | ForEach-Object Port | Sort-Object -Unique).Count }
}

# The ports leave at once: the engine's detach in 8 parallel runspaces (started as a job, so arrivals can be served).
function Start-LabLeave([object[]] $Ports) {
    $engine = $attacher
    return $Ports | ForEach-Object -AsJob -ThrottleLimit 8 -Parallel {
        try { ($using:engine).Disconnect($_); 'ok' } catch { "$($_.Exception.ErrorId)" }
    }
}

function Format-LabRefusals([string[]] $Ids) {
    if ($Ids.Count -eq 0) { return 'none' }
    return (($Ids | Group-Object | ForEach-Object { "$($_.Count)x$($_.Name)" }) -join ',')
}

$attacher = [VirtTools.UsbIp.Vhci.VhciAttacher]::new([VirtTools.Sysfs.SystemRoot]::new('/'), [VirtTools.UsbIp.Client.UsbIpClient]::Importer, $null)
try {
    # ---- all at once
    $speeds = [int[]] (@(1..$freeHigh | ForEach-Object { 3 }) + @(1..$freeSuper | ForEach-Object { 5 }))
    $arrive = Invoke-LabArrive 1 $total $speeds
    Write-LabLine "LAB-BENCH density place n=$total ms=$([int]$arrive.Elapsed.TotalMilliseconds) placed=$($arrive.Placed.Count) refused=$(Format-LabRefusals $arrive.Refused) twice=$($arrive.Twice) pending=$($arrive.Pending)"
    Assert-LabEqual $total $arrive.Placed.Count "the engine placed all $total desktops at once ($([int]$arrive.Elapsed.TotalSeconds) s)"
    Assert-LabEqual 0 $arrive.Twice 'no port was given twice'
    Assert-LabEqual 0 @(Get-LabVhciRow | Where-Object { $_[2] -eq '004' }).Count 'kernel: no port of either speed is free (004)'

    # ---- half leave while as many arrive (each arrival of the speed of one that leaves)
    $half = if ($scenarioClock.Elapsed -lt $churnBudget) { [int][math]::Floor($arrive.Placed.Count / 2) } else { 0 }
    if ($half -eq 0) { Write-LabLine "LAB-BENCH density churn skipped: $([int]$scenarioClock.Elapsed.TotalSeconds) s used of the scenario's 300" }
    $leaving = @($arrive.Placed | Select-Object -First $half)
    $staying = @($arrive.Placed | Select-Object -Skip $half)
    $clock = [Diagnostics.Stopwatch]::StartNew()
    if ($half -gt 0) {
        $job = Start-LabLeave $leaving
        $churn = Invoke-LabArrive ($total + 1) $half ([int[]] @($leaving | ForEach-Object { if ("$($_.Hub)" -eq 'SuperSpeed') { 5 } else { 3 } }))
        $left = @($job | Receive-Job -Wait -AutoRemoveJob)
        $churnMs = [int][math]::Max($clock.Elapsed.TotalMilliseconds, $churn.Elapsed.TotalMilliseconds)
        $leftRefused = @($left | Where-Object { $_ -ne 'ok' })
        Write-LabLine "LAB-BENCH density churn n=$half ms=$churnMs placed=$($churn.Placed.Count) refused=$(Format-LabRefusals $churn.Refused) detach_refused=$($leftRefused.Count) twice=$($churn.Twice)"
        Assert-LabEqual $half @($left | Where-Object { $_ -eq 'ok' }).Count "all $half leaving desktops were detached"
        Assert-LabEqual $half ($churn.Placed.Count + $churn.Refused.Count) "every one of the $half arrivals was placed or refused ($(Format-LabRefusals $churn.Refused))"
        Assert-Lab (@($churn.Refused | Where-Object { $_ -ne 'VhciNoFreePort' }).Count -eq 0) 'an arrival is refused only with VhciNoFreePort (it came before a port of its speed was free)'
    }
    else { $churn = [pscustomobject]@{ Placed = @() } }

    # ---- all leave
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $rest = @($staying) + @($churn.Placed)
    $gone = @(Start-LabLeave $rest | Receive-Job -Wait -AutoRemoveJob)
    $leaveMs = [int]$clock.Elapsed.TotalMilliseconds
    $free = Wait-Lab { @(Get-LabVhciRow | Where-Object { $_[2] -ne '004' }).Count -eq 0 } 60
    $leakedPorts = @(Get-LabVhciRow | Where-Object { $_[2] -ne '004' }).Count
    $leakedRecords = if ([IO.Directory]::Exists('/run/vhci_hcd')) { @([IO.Directory]::GetFiles('/run/vhci_hcd')).Count } else { 0 }
    Write-LabLine "LAB-BENCH density leave n=$($rest.Count) ms=$leaveMs detach_refused=$(@($gone | Where-Object { $_ -ne 'ok' }).Count) leaked_ports=$leakedPorts leaked_records=$leakedRecords"
    Assert-Lab $free 'kernel: every port is free again (004)'
    Assert-LabEqual 0 $leakedRecords 'no attach record left in /run/vhci_hcd'
}
catch {
    Assert-Lab $false "stopped by an error: $_"
}
finally {
    foreach ($row in @(Get-LabVhciRow | Where-Object { $_[2] -ne '004' })) {
        try { Write-LabFile '/sys/devices/platform/vhci_hcd.0/detach' $row[1] } catch { Write-LabLine "  detach $($row[1]): $_" }
    }
    foreach ($client in $held) { $client.Dispose() }
    $listener.Stop()
}
Assert-Lab (Wait-Lab { @(Get-LabImportedUsbDevice).Count -eq 0 } 60) 'kernel: no USB device left on a vhci_hcd bus'
Complete-LabScenario
